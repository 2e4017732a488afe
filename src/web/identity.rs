//! Who is calling: a recipient on the sharing endpoints, an admin or auditor on the admin API.
//! Credentials are checked through the state's [`Authenticator`], the seam where tests and
//! benches put checks of their own; the server's is [`Tokens`].

use std::net::IpAddr;

use actix_web::{HttpRequest, web};

use super::AppState;
use super::recording::trail;
use super::request::{authorization, blocking, client_ip};
use crate::Result;
use crate::audit::Actor;
use crate::auth::{self, AdminCaller, Recipient};

/// Checks the credentials of a request.
pub trait Authenticator: Send + Sync {
    /// The recipient an `Authorization` header value, presented from `client`, belongs to.
    fn recipient(
        &self,
        state: &AppState,
        authorization: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<Recipient>;

    /// The admin or auditor an `Authorization` header value belongs to.
    fn admin(&self, state: &AppState, authorization: Option<&str>) -> Result<AdminCaller>;
}

/// The server's checks: recipients' bearer tokens and OAuth access tokens, admins' and
/// auditors' admin-API tokens.
pub struct Tokens;

impl Authenticator for Tokens {
    fn recipient(
        &self,
        state: &AppState,
        authorization: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<Recipient> {
        // Every kind of token comes as `Bearer`: an access token sent as `Basic` is refused.
        let token = auth::bearer(authorization)?;
        if auth::oauth::looks_like_jwt(token) {
            return auth::oauth::authenticate(
                &state.catalog,
                &state.tokens,
                &state.signing_key,
                &state.config.public_url,
                token,
                client,
            );
        }
        auth::authenticate(&state.catalog, &state.tokens, authorization, client)
    }

    fn admin(&self, state: &AppState, authorization: Option<&str>) -> Result<AdminCaller> {
        auth::authenticate_admin(&state.catalog, &state.tokens, authorization)
    }
}

/// Someone a request may be made on behalf of.
pub trait Caller: Sized + Send + 'static {
    fn check(state: &AppState, req: &Presented) -> Result<Self>;
    /// The caller as the audit ledger names it.
    fn actor(&self) -> Actor;
}

/// What a request presents to be checked: read on the async worker, checked on a blocking
/// thread (the checks read the catalog).
pub struct Presented {
    authorization: Option<String>,
    client: Option<IpAddr>,
}

impl Caller for Recipient {
    fn check(state: &AppState, req: &Presented) -> Result<Self> {
        let authorization = req.authorization.as_deref();
        state
            .authenticator
            .recipient(state, authorization, req.client)
    }
    fn actor(&self) -> Actor {
        Actor::recipient(&self.name, Some(&self.token_id))
    }
}

impl Caller for AdminCaller {
    fn check(state: &AppState, req: &Presented) -> Result<Self> {
        state
            .authenticator
            .admin(state, req.authorization.as_deref())
    }
    /// Kind `admin` or `auditor`.
    fn actor(&self) -> Actor {
        Actor {
            kind: self.role.as_str().into(),
            name: Some(self.name.clone()),
            token_id: None,
        }
    }
}

/// Checks who makes `req` and runs `work` for them, both on the blocking pool (one hop); the
/// caller is noted in the request's audit trail.
pub async fn on_behalf_of<C: Caller, T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    work: impl FnOnce(&AppState, &C) -> Result<T> + Send + 'static,
) -> Result<T> {
    let presented = Presented {
        authorization: authorization(req),
        client: client_ip(req, &state.config.trusted_proxies),
    };
    let (state, trail) = (state.clone(), trail(req));
    blocking(move || {
        let caller = C::check(&state, &presented)?;
        trail.update(|d| d.actor = Some(caller.actor()));
        work(&state, &caller)
    })
    .await
}
