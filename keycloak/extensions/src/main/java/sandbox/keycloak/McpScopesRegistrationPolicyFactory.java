package sandbox.keycloak;

import java.util.List;

import org.keycloak.component.ComponentModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientregistration.policy.AbstractClientRegistrationPolicyFactory;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;

/**
 * Registration policy "mcp-optional-scopes": every client registered through this policy's subtype (the realm uses
 * it for anonymous registrations) gets the listed realm client scopes as optional scopes, whatever `scope` its
 * registration request named.
 *
 * Why: Keycloak makes a DCR request's `scope` the client's complete list of optional scopes. MCP clients register with
 * the scopes of the first 401 challenge (the SEP-835 scope selection strategy), and that challenge asks only for what
 * reading needs, so without this policy a later step-up to `trade:write` could never be granted to such a client.
 * Being optional, a listed scope is still only in a token when the client asks for it, the user consents, and the
 * user holds the role the scope requires.
 *
 * It also refuses a registration (or update) that asks for the CIBA grant: Keycloak's client policies cannot refuse a
 * grant type at registration, and CIBA in the wrong hands lets a registrant ask any user's device for a token.
 */
public class McpScopesRegistrationPolicyFactory extends AbstractClientRegistrationPolicyFactory {

    public static final String PROVIDER_ID = "mcp-optional-scopes";
    public static final String SCOPES = "scopes";

    private static final List<ProviderConfigProperty> CONFIG = List.of(new ProviderConfigProperty(SCOPES,
            "Optional client scopes", "Realm client scopes every registered client gets as optional scopes",
            ProviderConfigProperty.MULTIVALUED_STRING_TYPE, null));

    @Override
    public ClientRegistrationPolicy create(KeycloakSession session, ComponentModel model) {
        return new McpScopesRegistrationPolicy(model);
    }

    @Override
    public String getHelpText() {
        return "Adds the listed realm client scopes to every registered client as optional scopes, so a client that"
                + " registered with fewer scopes can still step up to them later.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG;
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }
}
