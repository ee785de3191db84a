package sandbox.keycloak;

import jakarta.ws.rs.core.Response;
import org.keycloak.OAuthErrorException;
import org.keycloak.events.Details;
import org.keycloak.events.Errors;
import org.keycloak.jose.jws.JWSInput;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.protocol.oidc.TokenExchangeContext;
import org.keycloak.protocol.oidc.tokenexchange.StandardTokenExchangeProvider;
import org.keycloak.representations.AccessToken;
import org.keycloak.services.CorsErrorResponseException;
import org.keycloak.services.managers.AuthenticationManager;

/**
 * Token exchange provider "sandbox-dpop-subject": standard token exchange (RFC 8693) of a DPoP-bound subject token by
 * the resource server the token was issued to.
 *
 * Keycloak 26.7.3's standard provider refuses every sender-constrained subject token unless the requester is the
 * token's own client (StandardTokenExchangeProvider.java:133-141), so an MCP server that received a client's
 * DPoP-bound token, and verified its proof, could never exchange it for a downstream API. This provider takes exactly
 * that case and nothing else: a subject token with a DPoP key thumbprint (cnf.jkt), issued to another client, with
 * the requester in its audience. It verifies the token as the standard provider does (signature, expiry, active
 * session) and then exchanges it as the standard provider does. The exchanged token is not bound to the client's key
 * (the requester does not hold it). A thief holding only the bound token still cannot exchange it: the requester
 * must authenticate as the audience's own confidential client. Every other request goes to the standard provider.
 */
public class DpopSubjectTokenExchangeProvider extends StandardTokenExchangeProvider {

    @Override
    public boolean supports(TokenExchangeContext context) {
        if (!super.supports(context)) return false;
        AccessToken token = unverified(context.getParams().getSubjectToken());
        return token != null && token.getConfirmation() != null && token.getConfirmation().getKeyThumbprint() != null
                && token.getConfirmation().getCertThumbprint() == null
                && !context.getClient().getClientId().equals(token.getIssuedFor())
                && token.hasAudience(context.getClient().getClientId());
    }

    private static AccessToken unverified(String token) {
        try {
            return new JWSInput(token).readJsonContent(AccessToken.class);
        } catch (Exception e) {
            return null; // not a JWS: the standard provider says what is wrong with it
        }
    }

    @Override
    protected Response tokenExchange() {
        String subjectToken = context.getParams().getSubjectToken();
        event.detail(Details.REQUESTED_TOKEN_TYPE, context.getParams().getRequestedTokenType());
        AuthenticationManager.AuthResult authResult = AuthenticationManager.verifyIdentityToken(session, realm,
                session.getContext().getUri(), clientConnection, true, true, null, false, subjectToken,
                context.getHeaders(), verifier -> {});
        if (authResult == null) {
            event.detail(Details.REASON, "subject_token validation failure");
            event.error(Errors.INVALID_TOKEN);
            throw new CorsErrorResponseException(cors, OAuthErrorException.INVALID_REQUEST, "Invalid token",
                    Response.Status.BAD_REQUEST);
        }
        UserModel tokenUser = authResult.user();
        UserSessionModel tokenSession = authResult.session();
        AccessToken token = authResult.token();
        // supports() read the token unverified: check again on the verified one.
        if (token.getConfirmation() == null || token.getConfirmation().getKeyThumbprint() == null
                || !token.hasAudience(client.getClientId())) {
            event.detail(Details.REASON, "DPoP-bound subject token not issued for the requesting client's audience");
            event.error(Errors.INVALID_REQUEST);
            throw new CorsErrorResponseException(cors, OAuthErrorException.INVALID_REQUEST,
                    "Sender-constrained token exchange rejected as the token was not issued for the requesting client",
                    Response.Status.BAD_REQUEST);
        }
        event.user(tokenUser);
        event.detail(Details.USERNAME, tokenUser.getUsername());
        if (token.getSessionId() != null) event.session(tokenSession);
        event.detail(Details.SUBJECT_TOKEN_CLIENT_ID, token.getIssuedFor());
        event.detail("dpop_subject_jkt", token.getConfirmation().getKeyThumbprint());
        return exchangeClientToClient(tokenUser, tokenSession, token, true);
    }
}
