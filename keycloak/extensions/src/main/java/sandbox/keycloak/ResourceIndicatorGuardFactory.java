package sandbox.keycloak;

import org.keycloak.Config;
import org.keycloak.common.Profile;
import org.keycloak.models.KeycloakSession;
import org.keycloak.protocol.oidc.token.TokenPostProcessor;
import org.keycloak.protocol.oidc.token.TokenPostProcessorFactory;
import org.keycloak.provider.EnvironmentDependentProviderFactory;

/**
 * Factory of {@link ResourceIndicatorGuard}. Keycloak runs token post-processors by descending order(); its own
 * resource-indicators processor has the default 0, so this one (100) runs first and can refuse before it fails.
 */
public class ResourceIndicatorGuardFactory implements TokenPostProcessorFactory, EnvironmentDependentProviderFactory {

    public static final String PROVIDER_ID = "sandbox-resource-indicator-guard";

    @Override
    public TokenPostProcessor create(KeycloakSession session) {
        return new ResourceIndicatorGuard(session);
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public int order() {
        return 100;
    }

    @Override
    public boolean isSupported(Config.Scope config) {
        return Profile.isFeatureEnabled(Profile.Feature.RESOURCE_INDICATORS);
    }
}
