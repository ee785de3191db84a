package sandbox.keycloak;

import org.keycloak.OAuth2Constants;
import org.keycloak.OAuthErrorException;
import org.keycloak.models.ClientModel;
import org.keycloak.models.Constants;
import org.keycloak.models.KeycloakSession;
import org.keycloak.protocol.oidc.resourceindicators.ResourceIndicatorConstants;
import org.keycloak.protocol.oidc.token.TokenInterceptorException;
import org.keycloak.protocol.oidc.token.TokenPostProcessor;
import org.keycloak.protocol.oidc.token.TokenPostProcessorContext;

/**
 * Token post-processor "sandbox-resource-indicator-guard", run before Keycloak's own resource-indicators processor
 * (a higher order): it answers with a clean OAuth error the two token requests that make Keycloak 26.7.3's
 * ResourceIndicatorsPostProcessor throw a NullPointerException (HTTP 500):
 * <ul>
 * <li>a resource (sent now, or carried by the code or refresh token) for an access token with no audience at all
 * (e.g. the public workshop-explorer client, whose scopes map no audience): Keycloak iterates the null audience array
 * (ResourceIndicatorsPostProcessor.java:80, and :93 for urn:client: resources). No audience can match a resource, so
 * the answer Keycloak means to give is the one given here: invalid_target;</li>
 * <li>a resource for a client that gets no refresh token (its grant_types lack refresh_token, so
 * use.refresh.tokens=false): Keycloak writes the resource into the absent refresh token
 * (ResourceIndicatorsPostProcessor.java:66). Answered with invalid_request naming the fix.</li>
 * <li>the same for client_credentials, which never has a refresh token (RFC 6749 §4.4.3), so every machine client
 * that sends a resource (MCP clients always do) would get a 500: here the guard does what Keycloak's processor
 * means to do (narrow the audience to the resource, or invalid_target) and clears the request's resource, so
 * Keycloak's processor has nothing left to do.</li>
 * </ul>
 * Anything else is left to Keycloak's processor unchanged. keycloak/README.md, "Upstream Keycloak bugs seen".
 */
public class ResourceIndicatorGuard implements TokenPostProcessor {

    private final KeycloakSession session;

    public ResourceIndicatorGuard(KeycloakSession session) {
        this.session = session;
    }

    static final String NO_REFRESH_TOKEN = "This client gets no refresh token (its grant_types lack refresh_token),"
            + " and Keycloak 26.7 cannot bind its tokens to a resource then; add refresh_token to the client's"
            + " grant_types.";

    @Override
    public void process(TokenPostProcessorContext context) {
        if (context.accessToken() == null || context.clientSessionCtx() == null) return;
        String requested = context.clientSessionCtx().getAttribute(OAuth2Constants.RESOURCE, String.class);
        String grantType = context.clientSessionCtx().getAttribute(Constants.GRANT_TYPE, String.class);
        String original = null;
        if (OAuth2Constants.AUTHORIZATION_CODE.equals(grantType) && context.code() != null)
            original = context.code().getResource();
        else if (OAuth2Constants.REFRESH_TOKEN.equals(grantType) && context.requestRefreshToken() != null
                && context.requestRefreshToken().getOtherClaims().get(OAuth2Constants.RESOURCE) instanceof String r)
            original = r;
        if (requested == null && original == null) return;

        String[] audience = context.accessToken().getAudience();
        if (audience == null || audience.length == 0)
            throw new TokenInterceptorException(OAuthErrorException.INVALID_TARGET,
                    ResourceIndicatorConstants.ERROR_INVALID_RESOURCE);
        if (context.refreshToken() != null) return;
        if (!OAuth2Constants.CLIENT_CREDENTIALS.equals(grantType) || requested == null)
            throw new TokenInterceptorException(OAuthErrorException.INVALID_REQUEST, NO_REFRESH_TOKEN);
        String matched = null;
        for (String aud : audience) {
            if (requested.startsWith(ResourceIndicatorConstants.URN_CLIENT_PREFIX)) {
                if (aud.equals(requested.substring(ResourceIndicatorConstants.URN_CLIENT_PREFIX.length()))) matched = aud;
                continue;
            }
            ClientModel client = session.clients().getClientByClientId(session.getContext().getRealm(), aud);
            if (client != null && requested.equals(client.getAttribute(ResourceIndicatorConstants.CLIENT_RESOURCE_URL_ATTRIBUTE)))
                matched = requested;
        }
        if (matched == null)
            throw new TokenInterceptorException(OAuthErrorException.INVALID_TARGET,
                    ResourceIndicatorConstants.ERROR_INVALID_RESOURCE);
        context.accessToken().audience(matched);
        context.clientSessionCtx().setAttribute(OAuth2Constants.RESOURCE, null);
    }
}
