//! `/1.0/users/`: XiVO users, their line, and the voicemail rules that tie them.

mod user;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve("users", req, out, common::resource::route::<user::User>).await
}
