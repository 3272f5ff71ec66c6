//! `/1.0/voicemails/`: voicemail boxes.

mod voicemail;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve(
        "voicemails",
        req,
        out,
        common::resource::route::<voicemail::Voicemail>,
    )
    .await
}
