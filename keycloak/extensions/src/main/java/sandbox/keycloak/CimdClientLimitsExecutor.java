package sandbox.keycloak;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.keycloak.OAuth2Constants;
import org.keycloak.OAuthErrorException;
import org.keycloak.models.CibaConfig;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.OAuth2DeviceConfig;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.protocol.oidc.OIDCConfigAttributes;
import org.keycloak.representations.idm.ClientPolicyExecutorConfigurationRepresentation;
import org.keycloak.representations.idm.ClientRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyException;
import org.keycloak.services.clientpolicy.context.ClientCRUDContext;
import org.keycloak.services.clientpolicy.context.PreAuthorizationRequestContext;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Client policy executor "cimd-client-limits", for the profile of Client ID Metadata Document clients: such a client
 * may use the authorization code grant (with refresh tokens) and hold only the listed realm client scopes.
 * <ul>
 * <li>When Keycloak creates or updates a client from a fetched document (REGISTER / UPDATE, with the proposed
 * representation): a document that declares another grant (CIBA, client_credentials, password, device, token
 * exchange, JWT authorization grant, UMA, implicit) or a realm client scope outside the list is refused, and no client
 * is created or changed. Scope names that are no realm client scope grant nothing and are let through.</li>
 * <li>At every later request of such a client (authorization, token, refresh) the stored client is checked the same
 * way, and the CIBA, client_credentials, password, device, token-exchange and JWT-grant requests are refused outright.
 * </li>
 * </ul>
 *
 * Why: Keycloak applies the realm's client registration policies (Allowed Client Scopes, the sandbox's CIBA refusal in
 * mcp-optional-scopes) only to the DCR endpoint. A CIMD client is made by
 * AbstractPersistentClientIdMetadataDocumentProvider.createClientMetadata from DescriptionConverter.toInternal, which
 * turns a document's grant_types and scope into the client's flags and optional scopes; the only hook on the way is
 * the client policy event REGISTER (CimdClientRegisterContext) / UPDATE (CimdClientUpdateContext). Without this, a
 * document declaring the CIBA grant and trade:approved got a client that could ask any user's device for an approval
 * token.
 */
public class CimdClientLimitsExecutor
        implements ClientPolicyExecutorProvider<CimdClientLimitsExecutor.Configuration> {

    /** Client attributes that enable a grant, and the grant each names in a refusal. */
    private static final Map<String, String> GRANT_ATTRIBUTES = new LinkedHashMap<>();

    static {
        GRANT_ATTRIBUTES.put(CibaConfig.OIDC_CIBA_GRANT_ENABLED, OAuth2Constants.CIBA_GRANT_TYPE);
        GRANT_ATTRIBUTES.put(OAuth2DeviceConfig.OAUTH2_DEVICE_AUTHORIZATION_GRANT_ENABLED,
                OAuth2Constants.DEVICE_CODE_GRANT_TYPE);
        GRANT_ATTRIBUTES.put(OIDCConfigAttributes.STANDARD_TOKEN_EXCHANGE_ENABLED,
                OAuth2Constants.TOKEN_EXCHANGE_GRANT_TYPE);
        GRANT_ATTRIBUTES.put(OIDCConfigAttributes.JWT_AUTHORIZATION_GRANT_ENABLED,
                OAuth2Constants.JWT_AUTHORIZATION_GRANT);
    }

    public static class Configuration extends ClientPolicyExecutorConfigurationRepresentation {
        @JsonProperty(CimdClientLimitsExecutorFactory.ALLOWED_SCOPES)
        protected List<String> allowedScopes = Collections.emptyList();

        public List<String> getAllowedScopes() {
            return allowedScopes;
        }

        public void setAllowedScopes(List<String> allowedScopes) {
            this.allowedScopes = allowedScopes;
        }
    }

    private final KeycloakSession session;
    private Configuration configuration = new Configuration();

    public CimdClientLimitsExecutor(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public String getProviderId() {
        return CimdClientLimitsExecutorFactory.PROVIDER_ID;
    }

    @Override
    public Class<Configuration> getExecutorConfigurationClass() {
        return Configuration.class;
    }

    @Override
    public void setupConfiguration(Configuration config) {
        this.configuration = Optional.ofNullable(config).orElseGet(Configuration::new);
    }

    @Override
    public void executeOnEvent(ClientPolicyContext context) throws ClientPolicyException {
        switch (context.getEvent()) {
            case REGISTER, UPDATE -> {
                if (context instanceof ClientCRUDContext crud && crud.getProposedClientRepresentation() != null)
                    refuseIfAny(problems(crud.getProposedClientRepresentation()), true);
            }
            case PRE_AUTHORIZATION_REQUEST -> {
                // After the CIMD executor (earlier in the profile) created or refreshed the client, or left it as is.
                String clientId = ((PreAuthorizationRequestContext) context).getClientId();
                ClientModel client = clientId == null ? null : realm().getClientByClientId(clientId);
                if (client != null) refuseIfAny(problems(client), true);
            }
            case BACKCHANNEL_AUTHENTICATION_REQUEST, BACKCHANNEL_TOKEN_REQUEST ->
                refuseGrant(OAuth2Constants.CIBA_GRANT_TYPE);
            case SERVICE_ACCOUNT_TOKEN_REQUEST -> refuseGrant(OAuth2Constants.CLIENT_CREDENTIALS);
            case RESOURCE_OWNER_PASSWORD_CREDENTIALS_REQUEST -> refuseGrant(OAuth2Constants.PASSWORD);
            case DEVICE_AUTHORIZATION_REQUEST, DEVICE_TOKEN_REQUEST -> refuseGrant(OAuth2Constants.DEVICE_CODE_GRANT_TYPE);
            case TOKEN_EXCHANGE_REQUEST -> refuseGrant(OAuth2Constants.TOKEN_EXCHANGE_GRANT_TYPE);
            case JWT_AUTHORIZATION_GRANT -> refuseGrant(OAuth2Constants.JWT_AUTHORIZATION_GRANT);
            case AUTHORIZATION_REQUEST, TOKEN_REQUEST, TOKEN_REFRESH -> {
                ClientModel client = session.getContext().getClient();
                if (client != null) refuseIfAny(problems(client), false);
            }
            default -> {
            }
        }
    }

    private RealmModel realm() {
        return session.getContext().getRealm();
    }

    /** What a proposed client (a document as Keycloak converted it) has that a CIMD client may not. */
    List<String> problems(ClientRepresentation rep) {
        List<String> grants = new ArrayList<>();
        if (Boolean.TRUE.equals(rep.isServiceAccountsEnabled())) grants.add(OAuth2Constants.CLIENT_CREDENTIALS);
        if (Boolean.TRUE.equals(rep.isDirectAccessGrantsEnabled())) grants.add(OAuth2Constants.PASSWORD);
        if (Boolean.TRUE.equals(rep.isImplicitFlowEnabled())) grants.add(OAuth2Constants.IMPLICIT);
        if (Boolean.TRUE.equals(rep.getAuthorizationServicesEnabled())) grants.add(OAuth2Constants.UMA_GRANT_TYPE);
        Map<String, String> attributes = rep.getAttributes() == null ? Map.of() : rep.getAttributes();
        GRANT_ATTRIBUTES.forEach((attribute, grant) -> {
            if ("true".equalsIgnoreCase(attributes.get(attribute))) grants.add(grant);
        });
        List<String> scopes = new ArrayList<>();
        if (rep.getDefaultClientScopes() != null) scopes.addAll(rep.getDefaultClientScopes());
        if (rep.getOptionalClientScopes() != null) scopes.addAll(rep.getOptionalClientScopes());
        return describe(grants, scopes);
    }

    /** The same for a stored client. */
    List<String> problems(ClientModel client) {
        List<String> grants = new ArrayList<>();
        if (client.isServiceAccountsEnabled()) grants.add(OAuth2Constants.CLIENT_CREDENTIALS);
        if (client.isDirectAccessGrantsEnabled()) grants.add(OAuth2Constants.PASSWORD);
        if (client.isImplicitFlowEnabled()) grants.add(OAuth2Constants.IMPLICIT);
        GRANT_ATTRIBUTES.forEach((attribute, grant) -> {
            if ("true".equalsIgnoreCase(client.getAttribute(attribute))) grants.add(grant);
        });
        List<String> scopes = new ArrayList<>(client.getClientScopes(true).keySet());
        scopes.addAll(client.getClientScopes(false).keySet());
        return describe(grants, scopes);
    }

    private List<String> describe(List<String> grants, Collection<String> scopes) {
        List<String> problems = new ArrayList<>();
        for (String grant : grants) problems.add("the grant " + grant);
        List<String> allowed = configuration.getAllowedScopes() == null ? List.of() : configuration.getAllowedScopes();
        scopes.stream().distinct().filter(scope -> !allowed.contains(scope))
                .filter(scope -> KeycloakModelUtils.getClientScopeByName(realm(), scope) != null)
                .forEach(scope -> problems.add("the scope " + scope));
        return problems;
    }

    private static void refuseIfAny(List<String> problems, boolean metadata) throws ClientPolicyException {
        if (problems.isEmpty()) return;
        String what = String.join(", ", problems);
        throw metadata
                ? new ClientPolicyException(OAuthErrorException.INVALID_REQUEST,
                        "Invalid Client Metadata: a CIMD client may not have " + what + " (sandbox rule).")
                : new ClientPolicyException(OAuthErrorException.UNAUTHORIZED_CLIENT,
                        "This CIMD client has " + what + ", which CIMD clients may not have (sandbox rule).");
    }

    private static void refuseGrant(String grant) throws ClientPolicyException {
        throw new ClientPolicyException(OAuthErrorException.UNAUTHORIZED_CLIENT,
                "A CIMD client may not use the grant " + grant + " (sandbox rule).");
    }
}
