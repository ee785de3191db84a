package sandbox.keycloak;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.protocol.oauth2.cimd.clientpolicy.context.CimdClientRegisterContext;
import org.keycloak.protocol.oauth2.cimd.clientpolicy.context.CimdClientRegisteredContext;
import org.keycloak.protocol.oauth2.cimd.clientpolicy.context.CimdClientUpdateContext;
import org.keycloak.protocol.oauth2.cimd.clientpolicy.context.CimdClientUpdatedContext;
import org.keycloak.protocol.oauth2.cimd.provider.AbstractPersistentClientIdMetadataDocumentProvider;
import org.keycloak.representations.idm.ClientPolicyConditionConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProvider;
import org.keycloak.services.clientpolicy.context.ClientCRUDContext;
import org.keycloak.services.clientpolicy.context.ClientModelContext;
import org.keycloak.services.clientpolicy.context.PreAuthorizationRequestContext;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Client policy condition "cimd-trusted-prefix": YES for a Client ID Metadata Document client whose client ID starts
 * with one of the configured URL prefixes, each an exact origin and path ("https://client-docs.localhost:8443/clients/").
 * <ul>
 * <li>At the authorization request (PRE_AUTHORIZATION_REQUEST), before Keycloak fetches anything: YES iff the
 * {@code client_id} parameter starts with a prefix, character for character (so scheme, host, port and path all
 * match), has no user info, query or fragment, and nothing after the prefix is a dot segment or an encoded separator.
 * Everything else is NO, so the CIMD executor never fetches it and Keycloak answers "Client not found.".</li>
 * <li>When Keycloak creates or updates a client from a fetched document (the Cimd*Context events, nested in the
 * authorization request this condition already let through): YES, so the same profile's executors see them.</li>
 * <li>Other client CRUD (admin API, DCR): NO.</li>
 * <li>Any other request of a known client (authorization, token, CIBA, ...): YES if Keycloak made that client from a
 * document (it carries the CIMD cache-expiry attribute) or its client ID is under a prefix; else NO.</li>
 * </ul>
 *
 * Why: Keycloak's own condition "client-id-uri" and the executor "client-id-metadata-document" compare only the host
 * (ClientIdUriSchemeCondition.isTrustedDomainMatched, AbstractClientIdMetadataDocumentExecutor.verifyUri: uri.getHost()
 * against the trusted domains; "Client identifier URLs MAY contain a port. -> no check"), so any local user who could
 * serve https on another port of the trusted host was trusted.
 */
public class CimdTrustedPrefixCondition
        extends AbstractClientPolicyConditionProvider<CimdTrustedPrefixCondition.Configuration> {

    /** A dot segment, or a percent-encoded dot, slash or backslash, or a backslash, anywhere after the prefix. */
    private static final Pattern UNSAFE_REST = Pattern.compile("(^|/)\\.{1,2}(/|$)|%2[eEfF]|%5[cC]|\\\\");

    public static class Configuration extends ClientPolicyConditionConfigurationRepresentation {
        @JsonProperty(CimdTrustedPrefixConditionFactory.PREFIXES)
        protected List<String> prefixes = Collections.emptyList();

        public List<String> getPrefixes() {
            return prefixes;
        }

        public void setPrefixes(List<String> prefixes) {
            this.prefixes = prefixes;
        }
    }

    public CimdTrustedPrefixCondition(KeycloakSession session) {
        super(session);
    }

    @Override
    public Class<Configuration> getConditionConfigurationClass() {
        return Configuration.class;
    }

    @Override
    public String getProviderId() {
        return CimdTrustedPrefixConditionFactory.PROVIDER_ID;
    }

    @Override
    public ClientPolicyVote applyPolicy(ClientPolicyContext context) {
        if (context instanceof PreAuthorizationRequestContext pre)
            return isTrusted(pre.getClientId(), configuration.getPrefixes()) ? ClientPolicyVote.YES : ClientPolicyVote.NO;
        if (context instanceof CimdClientRegisterContext || context instanceof CimdClientRegisteredContext
                || context instanceof CimdClientUpdateContext || context instanceof CimdClientUpdatedContext)
            return ClientPolicyVote.YES;
        if (context instanceof ClientCRUDContext) return ClientPolicyVote.NO;
        ClientModel client = context instanceof ClientModelContext withClient ? withClient.getClient()
                : session.getContext().getClient();
        if (client == null) return ClientPolicyVote.ABSTAIN;
        boolean fromDocument = client.getAttribute(
                AbstractPersistentClientIdMetadataDocumentProvider.CIMD_CACHE_EXPIRY_TIME_IN_SEC) != null;
        return fromDocument || isTrusted(client.getClientId(), configuration.getPrefixes()) ? ClientPolicyVote.YES
                : ClientPolicyVote.NO;
    }

    /**
     * Whether {@code clientId} is a document URL under one of {@code prefixes}. A prefix counts only if it is an
     * absolute https or http URL whose path ends with "/" (blank ones, e.g. an unset optional placeholder, are ignored).
     */
    static boolean isTrusted(String clientId, List<String> prefixes) {
        if (clientId == null || prefixes == null) return false;
        final URI id;
        try {
            id = new URI(clientId);
        } catch (URISyntaxException e) {
            return false;
        }
        if (id.getRawUserInfo() != null || id.getRawQuery() != null || id.getRawFragment() != null) return false;
        return prefixes.stream().filter(Objects::nonNull).map(String::trim).filter(CimdTrustedPrefixCondition::isPrefix)
                .anyMatch(prefix -> clientId.startsWith(prefix) && clientId.length() > prefix.length()
                        && !UNSAFE_REST.matcher(clientId.substring(prefix.length())).find());
    }

    /** An absolute http(s) URL with a host and a path that ends with "/", and nothing else. */
    static boolean isPrefix(String prefix) {
        try {
            URI uri = new URI(prefix);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            return (scheme.equals("https") || scheme.equals("http")) && uri.getHost() != null
                    && uri.getRawUserInfo() == null && uri.getRawQuery() == null && uri.getRawFragment() == null
                    && uri.getRawPath() != null && uri.getRawPath().endsWith("/");
        } catch (URISyntaxException e) {
            return false;
        }
    }
}
