package dev.berth.gateway.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** A route's pool size is the deployment's: each gateway keeps its share, at least one. */
class PoolShareTest {

    @Test
    void aGatewayAloneKeepsTheWholePool() {
        assertEquals(4, WarmPool.share(4, "one", Set.of()));
        assertEquals(4, WarmPool.share(4, "one", Set.of("one")));
        assertEquals(0, WarmPool.share(0, "one", Set.of("two")), "no pool stays no pool");
    }

    @Test
    void thePoolIsSplitEvenlyWithTheRemainderToTheFirstIds() {
        assertEquals(1, WarmPool.share(2, "one", Set.of("two")));
        assertEquals(1, WarmPool.share(2, "two", Set.of("one")));
        assertEquals(3, WarmPool.share(5, "a", Set.of("b")));
        assertEquals(2, WarmPool.share(5, "b", Set.of("a")));
        assertEquals(2, WarmPool.share(5, "a", Set.of("b", "c")));
        assertEquals(2, WarmPool.share(5, "b", Set.of("a", "c")));
        assertEquals(1, WarmPool.share(5, "c", Set.of("a", "b")));
    }

    @Test
    void everyGatewayKeepsAtLeastOneSoItsSessionsStartAtOnce() {
        assertEquals(1, WarmPool.share(1, "a", Set.of("b", "c")));
        assertEquals(1, WarmPool.share(1, "c", Set.of("a", "b")));
    }
}
