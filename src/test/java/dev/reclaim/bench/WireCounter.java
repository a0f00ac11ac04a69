package dev.reclaim.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay in front of PostgreSQL that counts round trips on the wire, whatever issued them (the driver's own
 * type and metadata look-ups, the pool's validation, connection set-up): the number of times a client starts
 * sending after the server last spoke. The driver waits for each answer before its next request, so every count is
 * one network round trip. It also counts the client's protocol messages by type. The relay adds latency, so it is
 * used only to audit the JDBC-level counts, never for timing.
 */
final class WireCounter implements AutoCloseable {
    private static final int SSL_REQUEST = 80877103;
    private static final int GSSENC_REQUEST = 80877104;

    private final ServerSocket server;
    private final int targetPort;
    private final AtomicLong roundTrips = new AtomicLong();
    private final long[] messages = new long[128];
    private final List<Socket> sockets = new ArrayList<>();
    private volatile boolean open = true;

    WireCounter(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "wire-counter-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    long roundTrips() {
        return roundTrips.get();
    }

    /** Frontend messages sent so far, by type (P parse, B bind, D describe, E execute, S sync, C close, Q query). */
    synchronized Map<Character, Long> messages() {
        Map<Character, Long> out = new TreeMap<>();
        for (int i = 0; i < messages.length; i++) {
            if (messages[i] > 0) {
                out.put((char) i, messages[i]);
            }
        }
        return out;
    }

    private void accept() {
        while (open) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                synchronized (sockets) {
                    sockets.add(client);
                    sockets.add(upstream);
                }
                boolean[] clientSpokeLast = {false};
                FrontendParser parser = new FrontendParser();
                pump(client, upstream, (buf, n) -> {
                    if (!clientSpokeLast[0]) {
                        clientSpokeLast[0] = true;
                        roundTrips.incrementAndGet();
                    }
                    parser.feed(buf, n);
                });
                pump(upstream, client, (buf, n) -> clientSpokeLast[0] = false);
            } catch (IOException e) {
                if (open) {
                    System.err.println("wire counter: " + e);
                }
            }
        }
    }

    private interface Chunk {
        void seen(byte[] buf, int n);
    }

    private static void pump(Socket from, Socket to, Chunk onData) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (WireCounter.class) { // orders the flag updates of the two directions
                        onData.seen(buf, n);
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // connection closed
            } finally {
                try {
                    to.shutdownOutput();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }, "wire-counter-pump");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Splits the client's byte stream into protocol messages: untyped start-up messages (length, code) until the
     * StartupMessage itself, then typed ones (type byte, length).
     */
    private final class FrontendParser {
        private boolean untyped = true;
        private final byte[] header = new byte[8];
        private int headerLen;
        private long skip;

        void feed(byte[] buf, int n) {
            int i = 0;
            while (i < n) {
                if (skip > 0) {
                    int k = (int) Math.min(skip, n - i);
                    skip -= k;
                    i += k;
                    continue;
                }
                int need = untyped ? 8 : 5;
                while (headerLen < need && i < n) {
                    header[headerLen++] = buf[i++];
                }
                if (headerLen < need) {
                    return;
                }
                headerLen = 0;
                if (untyped) {
                    int code = readInt(4);
                    skip = readInt(0) - 8L;
                    untyped = code == SSL_REQUEST || code == GSSENC_REQUEST; // another start-up message follows
                } else {
                    synchronized (WireCounter.this) {
                        messages[header[0] & 0x7f]++;
                    }
                    skip = readInt(1) - 4L;
                }
            }
        }

        private int readInt(int at) {
            return ((header[at] & 0xff) << 24) | ((header[at + 1] & 0xff) << 16) | ((header[at + 2] & 0xff) << 8)
                    | (header[at + 3] & 0xff);
        }
    }

    @Override
    public void close() throws IOException {
        open = false;
        server.close();
        synchronized (sockets) {
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }
}
