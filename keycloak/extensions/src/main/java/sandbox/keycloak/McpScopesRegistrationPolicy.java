package sandbox.keycloak;

import java.util.List;
import java.util.Set;

import org.jboss.logging.Logger;
import org.keycloak.component.ComponentModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientScopeModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.services.clientregistration.ClientRegistrationContext;
import org.keycloak.services.clientregistration.ClientRegistrationProvider;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicyException;

/**
 * See {@link McpScopesRegistrationPolicyFactory}. afterRegister/afterUpdate add the scopes; beforeRegister/beforeUpdate
 * refuse a client that asks for the CIBA grant; the other hooks allow.
 */
public class McpScopesRegistrationPolicy implements ClientRegistrationPolicy {

    private static final Logger LOG = Logger.getLogger(McpScopesRegistrationPolicy.class);

    private final ComponentModel model;

    public McpScopesRegistrationPolicy(ComponentModel model) {
        this.model = model;
    }

    /** The client attribute Keycloak's DescriptionConverter sets for grant_types [urn:openid:params:grant-type:ciba]. */
    static final String CIBA_GRANT = "oidc.ciba.grant.enabled";

    @Override
    public void beforeRegister(ClientRegistrationContext context) throws ClientRegistrationPolicyException {
        refuseCiba(context);
    }

    /**
     * CIBA sends an approval request to any user's device (login_hint) and, on a click, gives the requester that user's
     * token without a login or consent page. Only the MCP server's client may ask (large orders); a registrant could
     * otherwise phish approvals with a binding message of its choosing.
     */
    private static void refuseCiba(ClientRegistrationContext context) throws ClientRegistrationPolicyException {
        var attributes = context.getClient().getAttributes();
        if (attributes != null && "true".equals(attributes.get(CIBA_GRANT))) {
            throw new ClientRegistrationPolicyException(
                    "The CIBA grant (urn:openid:params:grant-type:ciba) is reserved for the MCP server's client");
        }
    }

    @Override
    public void afterRegister(ClientRegistrationContext context, ClientModel client) {
        // A registration that named no `scope` (MCPJam 1.0.24, Claude Code) may send authorization requests that name
        // none either, and a token without scopes has no MCP audience: the first challenge's scopes ("default-scopes")
        // become this client's default scopes. trade:write stays optional (step-up).
        if (context.getClient().getOptionalClientScopes() == null) makeDefault(client);
        addScopes(client);
    }

    private void makeDefault(ClientModel client) {
        RealmModel realm = client.getRealm();
        for (String name : model.getConfig().getOrDefault("default-scopes", List.of())) {
            ClientScopeModel scope = KeycloakModelUtils.getClientScopeByName(realm, name);
            if (scope == null || client.getClientScopes(true).containsKey(name)) continue;
            client.removeClientScope(scope);
            client.addClientScope(scope, true);
        }
    }

    @Override
    public void beforeUpdate(ClientRegistrationContext context, ClientModel client)
            throws ClientRegistrationPolicyException {
        refuseCiba(context);
    }

    @Override
    public void afterUpdate(ClientRegistrationContext context, ClientModel client) {
        // An update through the registration access token replaces the scope lists; keep the MCP scopes attached.
        addScopes(client);
    }

    @Override
    public void beforeView(ClientRegistrationProvider provider, ClientModel client)
            throws ClientRegistrationPolicyException {
    }

    @Override
    public void beforeDelete(ClientRegistrationProvider provider, ClientModel client)
            throws ClientRegistrationPolicyException {
    }

    private void addScopes(ClientModel client) {
        RealmModel realm = client.getRealm();
        List<String> names = model.getConfig().getOrDefault(McpScopesRegistrationPolicyFactory.SCOPES, List.of());
        Set<String> attached = client.getClientScopes(true).keySet();
        Set<String> optional = client.getClientScopes(false).keySet();
        for (String name : names) {
            if (attached.contains(name) || optional.contains(name)) continue;
            ClientScopeModel scope = KeycloakModelUtils.getClientScopeByName(realm, name);
            if (scope == null) {
                LOG.warnf("registration policy %s names client scope '%s', which realm %s does not have",
                        McpScopesRegistrationPolicyFactory.PROVIDER_ID, name, realm.getName());
                continue;
            }
            client.addClientScope(scope, false);
        }
    }
}
