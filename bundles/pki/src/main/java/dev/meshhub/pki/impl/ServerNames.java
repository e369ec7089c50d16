package dev.meshhub.pki.impl;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The names the node port's certificate lists besides the hub's URI: what the admin configured
 * ({@code advertisedNames}), else this machine's host name and every address of its interfaces, and
 * always {@code localhost}, {@code 127.0.0.1} and {@code ::1}. Nodes do not check these (they check
 * the pinned CA and the hub's URI); other TLS clients (grpcurl) may.
 *
 * @param dnsNames    DNS names, lowercase, in order, no duplicates
 * @param ipAddresses IP address literals, in order, no duplicates
 */
record ServerNames(List<String> dnsNames, List<String> ipAddresses) {

    private static final Pattern DNS = Pattern.compile("^(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$");
    private static final Pattern IPV4 = Pattern.compile("^\\d{1,3}(\\.\\d{1,3}){3}$");

    ServerNames {
        dnsNames = List.copyOf(dnsNames);
        ipAddresses = List.copyOf(ipAddresses);
    }

    /**
     * The names for {@code configured} (empty: this machine's own).
     *
     * @throws IllegalArgumentException naming a configured entry that is neither a DNS name nor an IP address
     */
    static ServerNames of(List<String> configured) {
        Set<String> dns = new LinkedHashSet<>();
        Set<String> ips = new LinkedHashSet<>();
        if (configured.isEmpty()) {
            machine(dns, ips);
        } else {
            for (String entry : configured) {
                String name = entry.strip().toLowerCase(Locale.ROOT);
                if (name.isEmpty()) {
                    continue;
                }
                String ip = ipLiteral(name);
                if (ip != null) {
                    ips.add(ip);
                } else if (name.length() <= 253 && DNS.matcher(name).matches() && !IPV4.matcher(name).matches()) {
                    dns.add(name);
                } else {
                    throw new IllegalArgumentException("advertisedNames: '" + entry + "' is neither a DNS name nor an IP address");
                }
            }
        }
        dns.add("localhost");
        ips.add("127.0.0.1");
        ips.add("0:0:0:0:0:0:0:1");
        return new ServerNames(new ArrayList<>(dns), new ArrayList<>(ips));
    }

    /** This machine's host name (and canonical name) and the addresses of its interfaces that are up. */
    private static void machine(Set<String> dns, Set<String> ips) {
        try {
            InetAddress local = InetAddress.getLocalHost();
            addDns(dns, local.getHostName());
            addDns(dns, local.getCanonicalHostName());
        } catch (UnknownHostException | SecurityException e) {
            // No resolvable host name: the addresses below still serve.
        }
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp()) {
                    continue;
                }
                for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                    if (!address.isLinkLocalAddress()) {
                        ips.add(address.getHostAddress().replaceFirst("%.*$", ""));
                    }
                }
            }
        } catch (SocketException e) {
            // No interfaces to list: loopback names only.
        }
    }

    private static void addDns(Set<String> dns, String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (DNS.matcher(lower).matches() && ipLiteral(lower) == null) {
            dns.add(lower);
        }
    }

    /** The canonical text of an IP literal, or null if {@code text} is none (never a DNS lookup). */
    static String ipLiteral(String text) {
        if (IPV4.matcher(text).matches()) {
            for (String octet : text.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    return null; // not a literal; and getByName would look it up as a host name
                }
            }
        } else if (!text.contains(":")) {
            return null;
        }
        try {
            return InetAddress.getByName(text.replace("[", "").replace("]", "")).getHostAddress();
        } catch (UnknownHostException | SecurityException e) {
            return null;
        }
    }
}
