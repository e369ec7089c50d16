package dev.meshhub.shell.impl;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.pki.HubPki;

/** {@code mesh:pin}: what a joining node passes as {@code meshnode --ca-pin}. */
@Component(service = TrustCommands.class, property = {
        "osgi.command.scope=mesh",
        "osgi.command.function=pin"})
public class TrustCommands {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile HubPki pki;

    public TrustCommands() {
    }

    TrustCommands(HubPki pki) {
        this.pki = pki;
    }

    @Descriptor("print the pin of the hub's CA (sha256:...), for meshnode --ca-pin")
    public String pin() {
        HubPki current = pki;
        if (current == null) {
            throw new IllegalStateException("the hub's PKI is not running (bundle dev.meshhub.pki): its error in the hub log"
                    + " names the file at fault");
        }
        return current.caPin();
    }
}
