//! `/1.0/tokens/`: API tokens for integrations, each with its scopes (README,
//! "Authentication"). The secret is in the creation's answer only; the database keeps its
//! SHA-256. Every component accepts a token (`Authorization: Bearer <secret>`, checked by
//! `common::auth`); this one makes, lists and revokes them.
//!
//! | path below the route | GET | POST | DELETE |
//! |---|---|---|---|
//! | `""`, `/` | list tokens | make one | |
//! | `/5` | token 5 | | revoke it |

mod token;

use common::{
    auth, db,
    http::{action, id, Action, Request, Service},
    pagination::Pagination,
    ApiError, Reply,
};
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};
use spin_sdk::http_component;

/// How this component serves: JSON, behind the API's admission.
const SERVICE: Service = Service {
    component: "tokens",
    offers: common::negotiation::JSON,
    admit: Some(common::auth::admit),
    router: route,
    after_response: None,
};

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve(&SERVICE, req, out).await
}

fn route(req: &Request) -> Result<Action, ApiError> {
    match req.segments().as_slice() {
        [] | [""] => match req.method {
            Method::Get => Ok(action(list)),
            Method::Post => Ok(action(create)),
            _ => Err(ApiError::MethodNotAllowed("GET, POST")),
        },
        [item] | [item, ""] => {
            let item = id(item)?;
            match req.method {
                Method::Get => Ok(action(move |_| get(item))),
                Method::Delete => Ok(action(move |_| revoke(item))),
                _ => Err(ApiError::MethodNotAllowed("GET, DELETE")),
            }
        }
        _ => Err(ApiError::NotFound),
    }
}

/// `{"total", "items"}`: the tokens, oldest first unless `order` says otherwise, without
/// their secrets.
fn list(req: &Request) -> Result<Reply, ApiError> {
    token::LISTING.check(&req.query, &[])?;
    let page = Pagination::from_query(&req.query)?;
    Ok(Reply::ok(&token::list(&db::open()?, &req.query, page)?))
}

fn get(item: i64) -> Result<Reply, ApiError> {
    let found = token::get(&db::open()?, item)?.ok_or(ApiError::NotFound)?;
    Ok(Reply::ok(&found))
}

/// 201 with `Location` and the token, its secret included: the only time it is shown. A
/// token that makes a token gives it no scope it does not have itself, nor a longer life
/// (403).
fn create(req: &Request) -> Result<Reply, ApiError> {
    let asked = token::NewToken::from_body(&req.json_object()?)?;
    if let Some(maker) = auth::token_of(req)? {
        asked.check_within(&maker.scopes, maker.expires_at)?;
    }
    let made = token::create(&db::open()?, &asked)?;
    let location = req.url(&format!("/1.0/tokens/{}", made.token.id));
    Ok(Reply::json(201, &made).with_location(location))
}

/// 200, as every deletion of the API: the token is gone, and refused from now on by every instance.
fn revoke(item: i64) -> Result<Reply, ApiError> {
    token::revoke(&db::open()?, item)?;
    Ok(Reply::empty(200))
}
