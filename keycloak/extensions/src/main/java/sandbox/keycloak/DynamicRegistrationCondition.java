package sandbox.keycloak;

import org.keycloak.models.KeycloakSession;
import org.keycloak.representations.idm.ClientPolicyConditionConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProvider;
import org.keycloak.services.clientpolicy.context.ClientCRUDContext;
import org.keycloak.services.clientpolicy.context.DynamicClientRegisterContext;
import org.keycloak.services.clientpolicy.context.DynamicClientRegisteredContext;
import org.keycloak.services.clientpolicy.context.DynamicClientUnregisterContext;
import org.keycloak.services.clientpolicy.context.DynamicClientUpdateContext;
import org.keycloak.services.clientpolicy.context.DynamicClientUpdatedContext;
import org.keycloak.services.clientpolicy.context.DynamicClientViewContext;

/**
 * Client policy condition "dynamic-client-registration": YES for a client created or changed through the OpenID
 * Connect Dynamic Client Registration endpoint, NO for any other creation or change (the admin API, a CIMD client
 * Keycloak creates from a fetched metadata document), ABSTAIN for every other event.
 *
 * Why: Keycloak's "client-updater-context" condition calls a CIMD client's creation "ByAnonymous", the same as an
 * anonymous DCR request, so a DCR-only profile also runs for CIMD; and its "secure-client-uris-pattern" executor
 * refuses every creation that is not DCR or admin with "not allowed input format.". CIMD clients have their own
 * checks (the "cimd" profile), so the sandbox's anonymous-registration policy adds this condition.
 */
public class DynamicRegistrationCondition
        extends AbstractClientPolicyConditionProvider<ClientPolicyConditionConfigurationRepresentation> {

    public DynamicRegistrationCondition(KeycloakSession session) {
        super(session);
    }

    @Override
    public Class<ClientPolicyConditionConfigurationRepresentation> getConditionConfigurationClass() {
        return ClientPolicyConditionConfigurationRepresentation.class;
    }

    @Override
    public String getProviderId() {
        return DynamicRegistrationConditionFactory.PROVIDER_ID;
    }

    @Override
    public ClientPolicyVote applyPolicy(ClientPolicyContext context) {
        // The contexts of ClientRegistrationResource's OIDC endpoint (their common superclass is package-private).
        if (context instanceof DynamicClientRegisterContext || context instanceof DynamicClientRegisteredContext
                || context instanceof DynamicClientUpdateContext || context instanceof DynamicClientUpdatedContext
                || context instanceof DynamicClientViewContext || context instanceof DynamicClientUnregisterContext)
            return ClientPolicyVote.YES;
        if (context instanceof ClientCRUDContext) return ClientPolicyVote.NO;
        return ClientPolicyVote.ABSTAIN;
    }
}
