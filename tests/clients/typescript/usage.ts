// The types openapi-typescript makes of the served document, used as an integration would:
// the e2e test `clients::the_typescript_types_compile` generates `api.d.ts` beside this file,
// then `tsc --strict --noEmit` must accept it. The `@ts-expect-error` lines are what the types
// must refuse: if a type grows loose (say `unknown`), tsc reports the unused directive.
import type { components, operations } from "./api";

type Schemas = components["schemas"];

// The recording hook: the running campaign of a queue, then a recording posted to it.
type CampaignQuery = NonNullable<operations["listCampaigns"]["parameters"]["query"]>;
const running: CampaignQuery = { queue_id: 3, activated: "true", running: "True" };
// @ts-expect-error: `yes` is no 2013 spelling of a boolean.
const loose: CampaignQuery = { running: "yes" };

type Campaigns = operations["listCampaigns"]["responses"][200]["content"]["application/json"];
function firstRunning(list: Campaigns): number | undefined {
    return list.items[0]?.id;
}

const recording: Schemas["RecordingInput"] = {
    cid: "1365.42",
    agent_no: "2123",
    caller: "0231156897",
    start_time: "2026-12-06 09:30:00",
};
// @ts-expect-error: a recording needs its cid.
const anonymous: Schemas["RecordingInput"] = { agent_no: "2123" };

type Stored = operations["putRecordingAudio"]["responses"][201]["content"]["application/json"];
const sha256 = (audio: Stored): string => audio.sha256;

// The CRM: a user with a voicemail, in the 2013 spellings a client may send.
const user: Schemas["UserInput"] = { firstname: "Marie", lastname: "Curie", enableclient: 1 };
const voicemail: Schemas["VoicemailInput"] = { mailbox: "8123", attach: "True" };
// @ts-expect-error: a voicemail needs its mailbox.
const nameless: Schemas["VoicemailInput"] = { fullname: "Marie Curie" };
// @ts-expect-error: 2 is no boolean.
const two: Schemas["BoolInput"] = 2;

type Found = operations["listUsers"]["responses"][200]["content"]["application/json"];
const names = (found: Found): string[] => found.items.map((u) => `${u.firstname} ${u.lastname}`);

export { running, loose, firstRunning, recording, anonymous, sha256, user, voicemail, nameless, two, names };
