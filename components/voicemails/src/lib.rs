//! `/1.0/voicemails/`: voicemail boxes.

mod voicemail;

use common::http::Service;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

/// How this component serves: JSON, behind the API's admission, its changes told to the webhooks after each response.
const SERVICE: Service = Service {
    component: "voicemails",
    offers: common::negotiation::JSON,
    admit: Some(common::auth::admit),
    router: common::resource::route::<voicemail::Voicemail>,
    after_response: Some(common::events::deliver_pending),
};

#[http_component]
async fn handle(req: IncomingRequest, out: ResponseOutparam) {
    common::http::serve(&SERVICE, req, out).await
}
