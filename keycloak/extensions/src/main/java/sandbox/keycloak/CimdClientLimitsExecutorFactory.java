package sandbox.keycloak;

import java.util.List;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProviderFactory;

/** Factory of {@link CimdClientLimitsExecutor} ("cimd-client-limits"). */
public class CimdClientLimitsExecutorFactory implements ClientPolicyExecutorProviderFactory {

    public static final String PROVIDER_ID = "cimd-client-limits";
    public static final String ALLOWED_SCOPES = "allowed-client-scopes";

    private static final List<ProviderConfigProperty> CONFIG = List.of(new ProviderConfigProperty(ALLOWED_SCOPES,
            "Allowed client scopes", "The realm client scopes a CIMD client may hold (as default or optional scopes)",
            ProviderConfigProperty.MULTIVALUED_STRING_TYPE, null));

    @Override
    public ClientPolicyExecutorProvider<?> create(KeycloakSession session) {
        return new CimdClientLimitsExecutor(session);
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "For Client ID Metadata Document clients: refuses documents and requests with any grant but the"
                + " authorization code (and refresh tokens), and documents with realm client scopes outside the list.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG;
    }
}
