package sandbox.keycloak;

import java.util.ArrayList;
import java.util.List;

import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProviderFactory;
import org.keycloak.services.clientpolicy.condition.ClientPolicyConditionProvider;

/** Factory of {@link MachineClientCondition} ("machine-client"). */
public class MachineClientConditionFactory extends AbstractClientPolicyConditionProviderFactory {

    public static final String PROVIDER_ID = "machine-client";

    private static final List<ProviderConfigProperty> CONFIG = new ArrayList<>();

    static {
        addCommonConfigProperties(CONFIG);
    }

    @Override
    public ClientPolicyConditionProvider create(KeycloakSession session) {
        return new MachineClientCondition(session);
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "At the token endpoint: matches a client that holds its own client role \"machine-client\" (set by an"
                + " administrator only). Negate it to refuse client_credentials to every other client.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG;
    }
}
