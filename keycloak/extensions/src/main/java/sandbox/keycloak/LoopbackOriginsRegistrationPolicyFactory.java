package sandbox.keycloak;

import java.util.List;

import org.keycloak.component.ComponentModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientregistration.policy.AbstractClientRegistrationPolicyFactory;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;

/**
 * Registration policy "loopback-registration-origins": the registration endpoint accepts, and answers CORS for, a
 * request whose Origin is a loopback http origin on any port. Keycloak's own "registration-web-origins" policy takes
 * only exact origins (DefaultCors#isOriginAllowed), and browser MCP clients run on a port of the user's choosing.
 */
public class LoopbackOriginsRegistrationPolicyFactory extends AbstractClientRegistrationPolicyFactory {

    public static final String PROVIDER_ID = "loopback-registration-origins";

    @Override
    public ClientRegistrationPolicy create(KeycloakSession session, ComponentModel model) {
        return new LoopbackOriginsRegistrationPolicy(session);
    }

    @Override
    public String getHelpText() {
        return "Accepts registration requests from browser pages on http://localhost, 127.0.0.1 or [::1], any port, and answers them with CORS headers.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }
}
