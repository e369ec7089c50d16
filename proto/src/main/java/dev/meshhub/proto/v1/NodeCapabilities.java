package dev.meshhub.proto.v1;

/** The names a node may list in {@link Hello#getCapabilitiesList()}. */
public final class NodeCapabilities {

    /** The node honours {@link TaskAssignment#getOutputWindowBytes()} and {@link OutputCredit}. */
    public static final String OUTPUT_CREDIT = "output-credit";

    private NodeCapabilities() {
    }
}
