package sandbox.keycloak;

import java.util.ArrayList;
import java.util.List;

import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProviderFactory;
import org.keycloak.services.clientpolicy.condition.ClientPolicyConditionProvider;

/** Factory of {@link CimdTrustedPrefixCondition} ("cimd-trusted-prefix"). */
public class CimdTrustedPrefixConditionFactory extends AbstractClientPolicyConditionProviderFactory {

    public static final String PROVIDER_ID = "cimd-trusted-prefix";
    public static final String PREFIXES = "trusted-prefixes";

    private static final List<ProviderConfigProperty> CONFIG = new ArrayList<>();

    static {
        addCommonConfigProperties(CONFIG);
        CONFIG.add(new ProviderConfigProperty(PREFIXES, "Trusted document URL prefixes",
                "Exact origins and paths, each ending with '/' (e.g. https://client-docs.localhost:8443/clients/): a"
                        + " client_id is a CIMD client only if it starts with one of them, character for character.",
                ProviderConfigProperty.MULTIVALUED_STRING_TYPE, null));
    }

    @Override
    public ClientPolicyConditionProvider create(KeycloakSession session) {
        return new CimdTrustedPrefixCondition(session);
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "Matches Client ID Metadata Document clients whose client ID starts with one of the listed URL prefixes"
                + " (scheme, host, port and path compared exactly), and requests of clients Keycloak made from a"
                + " document.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG;
    }
}
