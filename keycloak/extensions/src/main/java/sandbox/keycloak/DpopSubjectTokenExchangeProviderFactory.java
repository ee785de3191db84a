package sandbox.keycloak;

import org.keycloak.Config;
import org.keycloak.common.Profile;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.protocol.oidc.TokenExchangeProvider;
import org.keycloak.protocol.oidc.TokenExchangeProviderFactory;
import org.keycloak.provider.EnvironmentDependentProviderFactory;

/** Factory of {@link DpopSubjectTokenExchangeProvider}: asked before the standard provider (order 10). */
public class DpopSubjectTokenExchangeProviderFactory
        implements TokenExchangeProviderFactory, EnvironmentDependentProviderFactory {

    public static final String PROVIDER_ID = "sandbox-dpop-subject";

    @Override
    public TokenExchangeProvider create(KeycloakSession session) {
        return new DpopSubjectTokenExchangeProvider();
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
    public boolean isSupported(Config.Scope config) {
        return Profile.isFeatureEnabled(Profile.Feature.TOKEN_EXCHANGE_STANDARD_V2)
                && Profile.isFeatureEnabled(Profile.Feature.DPOP);
    }

    @Override
    public int order() {
        return 20;
    }
}
