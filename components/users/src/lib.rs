//! `/1.0/users/`: XiVO users, their line, and the voicemail rules that tie them.

mod user;

use common::{
    body,
    db::Db,
    http::{id, serve, Request},
    pagination::Pagination,
    ApiError, Reply,
};
use spin_sdk::http::{IncomingRequest, Method, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    serve(req, out, route).await
}

fn route(req: &Request) -> Result<Reply, ApiError> {
    match req.segments().as_slice() {
        [] | [""] => match req.method {
            Method::Get => list(req),
            Method::Post => create(req),
            _ => Err(ApiError::MethodNotAllowed("GET, POST")),
        },
        [user_id] | [user_id, ""] => {
            let user_id = id(user_id)?;
            match req.method {
                Method::Get => get(user_id),
                Method::Put => update(req, user_id),
                Method::Delete => delete(req, user_id),
                _ => Err(ApiError::MethodNotAllowed("GET, PUT, DELETE")),
            }
        }
        _ => Err(ApiError::NotFound),
    }
}

fn list(req: &Request) -> Result<Reply, ApiError> {
    req.query.only(&["_page", "_pagesize"])?;
    let page = Pagination::from_query(&req.query)?;
    Ok(Reply::ok(&user::list(&Db::open()?, page)?))
}

fn get(user_id: i64) -> Result<Reply, ApiError> {
    let user = user::get(&Db::open()?, user_id)?.ok_or(ApiError::NotFound)?;
    Ok(Reply::ok(&user))
}

fn create(req: &Request) -> Result<Reply, ApiError> {
    let changes = body::check(&req.json_object()?, user::FIELDS)?;
    let user = user::create(&Db::open()?, &changes)?;
    Ok(Reply::json(201, &user).with_location(location(req, user.id)))
}

fn update(req: &Request, user_id: i64) -> Result<Reply, ApiError> {
    let changes = body::check(&req.json_object()?, user::FIELDS)?;
    user::update(&Db::open()?, user_id, &changes)?;
    Ok(Reply::empty(200).with_location(location(req, user_id)))
}

fn delete(req: &Request, user_id: i64) -> Result<Reply, ApiError> {
    user::delete(&Db::open()?, user_id, req.query.has("deleteVoicemail"))?;
    Ok(Reply::empty(200))
}

fn location(req: &Request, user_id: i64) -> String {
    req.url(&format!("/1.0/users/{user_id}"))
}
