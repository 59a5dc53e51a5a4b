package dev.berth.gateway.config;

import java.io.StringReader;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Refuses a mapping that gives a key twice. YAML parsers keep the last one silently (a route with
 * two {@code env:} keys would start on the second), so the file is walked as SnakeYAML's node tree,
 * which keeps every key with its line, before Jackson reads it.
 */
final class DuplicateKeys {

    private final String file;
    /** Nodes already walked: an alias shares its anchor's node, which may even contain itself. */
    private final Set<Node> walked = Collections.newSetFromMap(new IdentityHashMap<>());

    private DuplicateKeys(String file) {
        this.file = file;
    }

    /** Fails naming the key's path, both lines and the fix; checks the first document, the one Jackson reads. */
    static void reject(String file, String text) {
        Iterator<Node> documents;
        try {
            documents = new Yaml().composeAll(new StringReader(text)).iterator();
            if (documents.hasNext()) {
                new DuplicateKeys(file).walk(documents.next(), "");
            }
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new ConfigException(file + ": not valid YAML at line " + line + ": " + e.getProblem()
                    + ". Fix: correct the YAML syntax there");
        }
    }

    private void walk(Node node, String path) {
        if (!walked.add(node)) {
            return;
        }
        if (node instanceof SequenceNode sequence) {
            for (int i = 0; i < sequence.getValue().size(); i++) {
                walk(sequence.getValue().get(i), path + "[" + i + "]");
            }
        } else if (node instanceof MappingNode mapping) {
            Map<String, Node> firsts = new HashMap<>();
            for (NodeTuple entry : mapping.getValue()) {
                if (!(entry.getKeyNode() instanceof ScalarNode key)) {
                    continue; // a list or mapping as a key: not a config key, reported as unknown later
                }
                String keyPath = path.isEmpty() ? key.getValue() : path + "." + key.getValue();
                Node first = firsts.putIfAbsent(key.getValue(), key);
                if (first != null) {
                    throw ConfigException.at(
                            file,
                            keyPath,
                            "is given twice, on line " + line(first) + " and on line " + line(key)
                                    + ", and only the last would count",
                            "remove one of them");
                }
                walk(entry.getValueNode(), keyPath);
            }
        }
    }

    private static int line(Node node) {
        return node.getStartMark().getLine() + 1;
    }
}
