package dev.reclaim.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay in front of PostgreSQL that counts round trips on the wire, whatever issued them (the driver's own
 * type and metadata look-ups, the pool's validation, connection set-up): the number of times a client starts
 * sending after the server last spoke. The driver waits for each answer before its next request, so every count is
 * one network round trip. The relay adds latency, so it is used only to audit the JDBC-level counts, never for
 * timing.
 */
final class WireCounter implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final AtomicLong roundTrips = new AtomicLong();
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
                pump(client, upstream, () -> {
                    if (!clientSpokeLast[0]) {
                        clientSpokeLast[0] = true;
                        roundTrips.incrementAndGet();
                    }
                });
                pump(upstream, client, () -> clientSpokeLast[0] = false);
            } catch (IOException e) {
                if (open) {
                    System.err.println("wire counter: " + e);
                }
            }
        }
    }

    private static void pump(Socket from, Socket to, Runnable onData) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (WireCounter.class) { // orders the flag updates of the two directions
                        onData.run();
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
