package sandbox.keycloak;

import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.representations.idm.ClientPolicyConditionConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyEvent;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProvider;

/**
 * Client policy condition "machine-client": at the client_credentials token request, YES when the authenticated client holds its own
 * client role "machine-client" (only a realm administrator can give a client a role: neither DCR nor a CIMD document
 * can), NO when it does not; ABSTAIN at every other event.
 *
 * Why: Keycloak's "client-roles" and "client-attributes" conditions look for the client in a ClientModelContext, and
 * the client_credentials request's context (ServiceAccountTokenRequestContext) is not one, so they abstain exactly
 * where the realm needs them. The sandbox's "no-service-account-tokens" policy pairs the grant-type condition with
 * this one, negated: client_credentials is refused to every client but the pre-registered machine clients.
 */
public class MachineClientCondition
        extends AbstractClientPolicyConditionProvider<ClientPolicyConditionConfigurationRepresentation> {

    public static final String ROLE = "machine-client";

    public MachineClientCondition(KeycloakSession session) {
        super(session);
    }

    @Override
    public Class<ClientPolicyConditionConfigurationRepresentation> getConditionConfigurationClass() {
        return ClientPolicyConditionConfigurationRepresentation.class;
    }

    @Override
    public String getProviderId() {
        return MachineClientConditionFactory.PROVIDER_ID;
    }

    @Override
    public ClientPolicyVote applyPolicy(ClientPolicyContext context) {
        ClientPolicyEvent event = context.getEvent();
        // Only the client_credentials request: at any other event a vote would decide alone wherever the grant-type
        // condition abstains (it does at TOKEN_REQUEST, the authorization code's), and refuse every user's token.
        if (event != ClientPolicyEvent.SERVICE_ACCOUNT_TOKEN_REQUEST && event != ClientPolicyEvent.SERVICE_ACCOUNT_TOKEN_RESPONSE)
            return ClientPolicyVote.ABSTAIN;
        ClientModel client = session.getContext().getClient();
        if (client == null) return ClientPolicyVote.ABSTAIN;
        return client.getRole(ROLE) != null ? ClientPolicyVote.YES : ClientPolicyVote.NO;
    }
}
