package dev.meshhub.shell.impl;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.pki.CaRotation;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.PkiException;

/**
 * {@code mesh:pin}: what a joining node passes as {@code meshnode --ca-pin}; {@code mesh:carotate
 * [--finish]}: starts a CA rotation (or retires the old CA now), as {@code meshctl ca rotate}.
 */
@Component(service = TrustCommands.class, property = {
        "osgi.command.scope=mesh",
        "osgi.command.function=pin",
        "osgi.command.function=carotate"})
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
        return running().caPin();
    }

    @Descriptor("rotate the hub's CA while nodes stay connected (--finish: retire the old CA now)")
    public String carotate(
            @Descriptor("retire the old CA now: nodes still on it must enroll again")
            @Parameter(names = "--finish", presentValue = "true", absentValue = "false") boolean finish) throws PkiException {
        HubPki current = running();
        if (finish) {
            if (!current.retireOldCa()) {
                throw new IllegalStateException("no CA rotation is running; start one with mesh:carotate");
            }
            return "old CA retired; the hub serves and issues with " + current.caPin();
        }
        CaRotation rotation = current.rotateCa();
        return "CA rotation started: new CA " + rotation.newCaPin() + " issues node certificates now; connected nodes renew at"
                + " once, and the old CA " + current.caPin() + " is retired when all enrolled nodes have (at the latest "
                + rotation.retireBy() + "). Invites print the new pin from then on.";
    }

    private HubPki running() {
        HubPki current = pki;
        if (current == null) {
            throw new IllegalStateException("the hub's PKI is not running (bundle dev.meshhub.pki): its error in the hub log"
                    + " names the file at fault");
        }
        return current;
    }
}
