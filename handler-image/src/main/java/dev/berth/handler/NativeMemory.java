package dev.berth.handler;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/** Native memory outside the Java heap, which only the container's memory limit bounds. */
final class NativeMemory {

    private static final long PAGE = 4096;

    private NativeMemory() {}

    /** Allocates {@code bytes} and writes every page, so the memory is really used, and keeps it. */
    static void leak(long bytes) {
        Unsafe unsafe = unsafe();
        long address = unsafe.allocateMemory(bytes);
        for (long offset = 0; offset < bytes; offset += PAGE) {
            unsafe.putByte(address + offset, (byte) 1);
        }
    }

    private static Unsafe unsafe() {
        try {
            Field field = Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (Unsafe) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("sun.misc.Unsafe is not available", e);
        }
    }
}
