package sandbox.keycloak;

import java.net.URI;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.services.clientregistration.ClientRegistrationContext;
import org.keycloak.services.clientregistration.ClientRegistrationProvider;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicyException;

/**
 * See {@link LoopbackOriginsRegistrationPolicyFactory}. getAllowedOrigins admits a loopback page's Origin (Keycloak's
 * Cors check on the registration endpoint takes its allowed origins from the anonymous policies); beforeRegister and
 * beforeUpdate then require that page to register a client that redirects back to it.
 */
public class LoopbackOriginsRegistrationPolicy implements ClientRegistrationPolicy {

    /** http, a loopback literal host, any port (or none); no path. Exactly what a browser sends as Origin. */
    static final Pattern LOOPBACK_ORIGIN = Pattern.compile("^http://(localhost|127\\.0\\.0\\.1|\\[::1\\])(:[0-9]{1,5})?$");

    private final KeycloakSession session;

    public LoopbackOriginsRegistrationPolicy(KeycloakSession session) {
        this.session = session;
    }

    private String loopbackOrigin() {
        String origin = session.getContext().getRequestHeaders().getHeaderString("Origin");
        return origin != null && LOOPBACK_ORIGIN.matcher(origin).matches() ? origin : null;
    }

    @Override
    public Collection<String> getAllowedOrigins() {
        String origin = loopbackOrigin();
        if (origin == null) return List.of();
        // Also on refusals (a policy's 403, a 400): Keycloak's error responses carry no CORS headers, so without this
        // the page reads "Failed to fetch" instead of the error. DefaultCors#add sets the same two on success.
        session.getContext().getHttpResponse().setHeader("Access-Control-Allow-Origin", origin);
        session.getContext().getHttpResponse().setHeader("Access-Control-Allow-Credentials", "true");
        return List.of(origin);
    }

    /**
     * A page registers only a client that comes back to it: one of its redirect URIs has the page's origin. (The
     * token endpoint answers CORS only for the client's redirect origins, so such a client is the only kind a page
     * can use anyway; this keeps a local page from registering clients for other local pages.) Requests without an
     * Origin (CLIs, desktop apps) are not affected.
     */
    private void redirectsToThePage(ClientRegistrationContext context) throws ClientRegistrationPolicyException {
        String origin = loopbackOrigin();
        if (origin == null) return;
        List<String> redirects = context.getClient().getRedirectUris();
        if (redirects != null)
            for (String redirect : redirects)
                if (origin.equals(originOf(redirect))) return;
        throw new ClientRegistrationPolicyException(
                "A client registered from a web page must list a redirect URI on that page's origin (" + origin + ")");
    }

    private static String originOf(String uri) {
        try {
            URI parsed = new URI(uri);
            if (parsed.getScheme() == null || parsed.getRawAuthority() == null) return null;
            return parsed.getScheme() + "://" + parsed.getRawAuthority();
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public void beforeRegister(ClientRegistrationContext context) throws ClientRegistrationPolicyException {
        redirectsToThePage(context);
    }

    @Override
    public void afterRegister(ClientRegistrationContext context, ClientModel client) {
    }

    @Override
    public void beforeUpdate(ClientRegistrationContext context, ClientModel client)
            throws ClientRegistrationPolicyException {
        redirectsToThePage(context);
    }

    @Override
    public void afterUpdate(ClientRegistrationContext context, ClientModel client) {
    }

    @Override
    public void beforeView(ClientRegistrationProvider provider, ClientModel client) {
    }

    @Override
    public void beforeDelete(ClientRegistrationProvider provider, ClientModel client) {
    }
}
