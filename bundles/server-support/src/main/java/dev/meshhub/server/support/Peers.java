package dev.meshhub.server.support;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** How the front ends name a remote peer in logs, messages and limits. */
public final class Peers {

    private Peers() {
    }

    /** {@code host:port}, with IPv6 hosts in brackets; anything else as its string. */
    public static String describe(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            String host = inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    /** The peer's host without the port, for per-address limits; {@link #describe} when there is none. */
    public static String host(SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : describe(address);
    }

    /**
     * Whether a configured bind address is loopback: {@code localhost} or a literal loopback address.
     * A host name (other than localhost) never counts: it could resolve elsewhere, and no DNS is asked.
     */
    public static boolean isLoopback(String address) {
        String a = address == null ? "" : address.strip();
        if ("localhost".equalsIgnoreCase(a)) {
            return true;
        }
        if (!a.matches("[0-9.]+|[0-9a-fA-F:]+|\\[[0-9a-fA-F:]+\\]")) {
            return false;
        }
        try {
            return java.net.InetAddress.getByName(a).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }
}
