package dev.meshhub.proto.v1;

import java.util.Objects;

/**
 * A {@code HOST:PORT} address of the hub (node port or admin API), as clients take it on the
 * command line or from the environment. Shared by the node agent and the CLI.
 *
 * <p>Accepts {@code host}, {@code host:port}, {@code [v6-literal]} and {@code [v6-literal]:port};
 * a missing port means the given default.
 */
public final class HubAddress {

    private final String host;
    private final int port;

    public HubAddress(String host, int port) {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host is empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not between 1 and 65535");
        }
        this.host = host;
        this.port = port;
    }

    /**
     * Parses {@code HOST[:PORT]}.
     *
     * @throws IllegalArgumentException with a message fit for the user when the text is not an address
     */
    public static HubAddress parse(String text, int defaultPort) {
        String s = text == null ? "" : text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("expected HOST:PORT, got an empty value");
        }
        String host;
        String portText = null;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("expected HOST:PORT, got '" + s + "' (missing ']')");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("expected HOST:PORT, got '" + s + "'");
                }
                portText = rest.substring(1);
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0 && s.indexOf(':') != colon) {
                throw new IllegalArgumentException("expected HOST:PORT, got '" + s
                        + "' (write an IPv6 address as [ADDRESS]:PORT)");
            }
            host = colon < 0 ? s : s.substring(0, colon);
            portText = colon < 0 ? null : s.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + s + "' (no host)");
        }
        int port = defaultPort;
        if (portText != null) {
            try {
                port = Integer.parseInt(portText);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected HOST:PORT, got '" + s + "' ('" + portText
                        + "' is not a port number)");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("expected HOST:PORT, got '" + s
                        + "' (port must be between 1 and 65535)");
            }
        }
        return new HubAddress(host, port);
    }

    /** True for 127.0.0.0/8, ::1 and "localhost": where the plaintext admin token never leaves the machine. */
    public boolean isLoopback() {
        return host.equalsIgnoreCase("localhost") || host.startsWith("127.") || host.equals("::1")
                || host.equals("0:0:0:0:0:0:0:1");
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HubAddress && ((HubAddress) o).host.equals(host) && ((HubAddress) o).port == port;
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, port);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
