package sandbox.keycloak;

import java.util.ArrayList;
import java.util.List;

import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProviderFactory;
import org.keycloak.services.clientpolicy.condition.ClientPolicyConditionProvider;

/** Factory of {@link DynamicRegistrationCondition} ("dynamic-client-registration"). */
public class DynamicRegistrationConditionFactory extends AbstractClientPolicyConditionProviderFactory {

    public static final String PROVIDER_ID = "dynamic-client-registration";

    private static final List<ProviderConfigProperty> CONFIG = new ArrayList<>();

    static {
        addCommonConfigProperties(CONFIG);
    }

    @Override
    public ClientPolicyConditionProvider create(KeycloakSession session) {
        return new DynamicRegistrationCondition(session);
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "Matches clients created or updated through the Dynamic Client Registration endpoint, and nothing"
                + " else (not the admin API, not CIMD clients).";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG;
    }
}
