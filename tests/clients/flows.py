"""Two integrations' flows, written with the Python client that openapi-python-client generates
from the served document (the e2e test `clients::the_generated_python_client_runs_the_flows`
generates it, then runs this):

    python flows.py <base URL> <directory holding the generated package>

The recording hook's: find the running campaign of a queue, post a recording, upload its audio,
read the audio back whole and by range. A CRM's: create a user with a voicemail, find the user,
edit it (refused with 412 from a stale copy), delete it (refused with 412 while it has the
voicemail, as in 2013), delete the voicemail. Each runs with
an API token of the scopes it needs, which the administrator (a loopback client, trusted) makes
first, with the setup.

Only the generated functions and types speak to the API: no raw HTTP here. Any surprise fails
with an AssertionError naming the step."""

import datetime
import hashlib
import io
import struct
import sys
from http import HTTPStatus

sys.path.insert(0, sys.argv[2])

from xi_vo_rest_api_client import AuthenticatedClient, Client
from xi_vo_rest_api_client.api.agents import create_agent
from xi_vo_rest_api_client.api.campaigns import create_campaign, list_campaigns
from xi_vo_rest_api_client.api.queues import create_queue
from xi_vo_rest_api_client.api.recordings import (
    add_recording,
    get_recording,
    get_recording_audio,
    put_recording_audio,
)
from xi_vo_rest_api_client.api.tokens import create_token
from xi_vo_rest_api_client.api.users import (
    create_user,
    delete_user,
    get_user,
    list_users,
    update_user,
)
from xi_vo_rest_api_client.api.voicemails import (
    create_voicemail,
    delete_voicemail,
    get_voicemail,
)
from xi_vo_rest_api_client.models import (
    AgentInput,
    CampaignInput,
    QueryFlag,
    QueueInput,
    RecordingInput,
    TokenInput,
    UserInput,
    VoicemailInput,
)
from xi_vo_rest_api_client.types import File


def expect(response, status, step):
    """The response's parsed body, once its status is the one the step expects."""
    assert response.status_code == status, (
        f"{step}: {response.status_code} {response.content[:300]!r}, not {status}"
    )
    return response.parsed


def created_id(response, step):
    """The id of what a POST made: `{"id": N}`, or for a campaign N alone, as in 2013."""
    body = expect(response, HTTPStatus.CREATED, step)
    return body if isinstance(body, int) else body.id


def wav(seconds):
    """A WAV file of silence (8 kHz, 16-bit mono), as the PBX records."""
    frames = b"\x00\x00" * 8000 * seconds
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    return header + b"data" + struct.pack("<I", len(frames)) + frames


def token(admin, name, scopes):
    """A client of the API with a new token of these scopes, made by the administrator."""
    made = expect(
        create_token.sync_detailed(
            client=admin, body=TokenInput(name=name, scopes=scopes)
        ),
        HTTPStatus.CREATED,
        f"make the token of {name}",
    )
    return AuthenticatedClient(
        base_url=admin._base_url, token=made.secret, raise_on_unexpected_status=True
    )


def recording_hook(admin):
    queue = created_id(
        create_queue.sync_detailed(
            client=admin, body=QueueInput(name="support", number="3000")
        ),
        "create the queue",
    )
    expect(
        create_agent.sync_detailed(
            client=admin, body=AgentInput(number="2123", firstname="Ada")
        ),
        HTTPStatus.CREATED,
        "create the agent",
    )
    midnight = datetime.datetime.combine(datetime.date.today(), datetime.time())
    campaign_id = created_id(
        create_campaign.sync_detailed(
            client=admin,
            body=CampaignInput(
                campaign_name="quality",
                activated=True,
                base_filename="quality-",
                queue_id=queue,
                start_date=midnight - datetime.timedelta(days=1),
                end_date=midnight + datetime.timedelta(days=2),
            ),
        ),
        "create the campaign",
    )
    client = token(admin, "recording hook", ["campaigns:read", "recordings:*"])

    # The hook, when a call to the queue is answered: which campaign records it?
    running = expect(
        list_campaigns.sync_detailed(
            client=client,
            activated=QueryFlag.TRUE_LOWER,
            queue_id=queue,
            running=QueryFlag.TRUE_LOWER,
        ),
        HTTPStatus.OK,
        "find the running campaign of the queue",
    )
    assert running.total == 1, f"running campaigns: {running.to_dict()}"
    campaign = running.items[0]
    assert campaign.id == campaign_id and campaign.queue_number == "3000", (
        campaign.to_dict()
    )

    cid = "1365.42"
    started = datetime.datetime(2026, 12, 6, 9, 30, 0)
    expect(
        add_recording.sync_detailed(
            campaign.id,
            client=client,
            body=RecordingInput(
                cid=cid,
                agent_no="2123",
                caller="0231156897",
                callee="3000",
                filename=f"quality-{cid}.wav",
                start_time=started,
                end_time=started + datetime.timedelta(minutes=3),
            ),
        ),
        HTTPStatus.CREATED,
        "post the recording",
    )

    audio = wav(2)
    stored = expect(
        put_recording_audio.sync_detailed(
            campaign.id, cid, client=client, body=File(payload=io.BytesIO(audio))
        ),
        HTTPStatus.CREATED,
        "upload the audio",
    )
    assert stored.content_type == "audio/wav", f"sniffed as {stored.content_type}"
    assert stored.bytes_ == len(audio), stored.to_dict()
    assert stored.sha256 == hashlib.sha256(audio).hexdigest(), stored.to_dict()

    whole = expect(
        get_recording_audio.sync_detailed(campaign.id, cid, client=client),
        HTTPStatus.OK,
        "download the audio",
    )
    assert whole.payload.read() == audio, "the audio read back differs"
    part = expect(
        get_recording_audio.sync_detailed(
            campaign.id, cid, client=client, range_="bytes=44-1043"
        ),
        HTTPStatus.PARTIAL_CONTENT,
        "download a range of the audio",
    )
    assert part.payload.read() == audio[44:1044], "the range read back differs"

    recording = expect(
        get_recording.sync_detailed(campaign.id, cid, client=client),
        HTTPStatus.OK,
        "read the recording",
    )
    assert (
        recording.agent_no == "2123" and recording.start_time == "2026-12-06 09:30:00"
    ), recording.to_dict()
    assert recording.audio.sha256 == stored.sha256, recording.to_dict()
    print(
        f"recording hook: campaign {campaign.id}, recording {cid}, {len(audio)} bytes of audio"
    )


def crm(admin):
    client = token(admin, "CRM", ["users:*", "voicemails:*"])
    mailbox = created_id(
        create_voicemail.sync_detailed(
            client=client,
            body=VoicemailInput(
                mailbox="8123", password="1234", email="marie@example.com"
            ),
        ),
        "create the voicemail",
    )
    user_id = created_id(
        create_user.sync_detailed(
            client=client,
            body=UserInput(
                firstname="Marie",
                lastname="Curie",
                mobilephonenumber="+33612345678",
                enableclient=True,
                voicemailid=mailbox,
            ),
        ),
        "create the user",
    )

    found = expect(
        list_users.sync_detailed(client=client, search="curie"),
        HTTPStatus.OK,
        "find the user",
    )
    assert [u.id for u in found.items] == [user_id], found.to_dict()

    read = get_user.sync_detailed(user_id, client=client)
    user = expect(read, HTTPStatus.OK, "read the user")
    assert user.voicemailid == mailbox and user.enableclient is True, user.to_dict()
    tag = read.headers["etag"]

    expect(
        update_user.sync_detailed(
            user_id,
            client=client,
            body=UserInput(lastname="Skłodowska-Curie"),
            if_match=tag,
        ),
        HTTPStatus.OK,
        "edit the user from the copy just read",
    )
    expect(
        update_user.sync_detailed(
            user_id, client=client, body=UserInput(firstname="Maria"), if_match=tag
        ),
        HTTPStatus.PRECONDITION_FAILED,
        "edit the user from a stale copy",
    )
    voicemail = expect(
        get_voicemail.sync_detailed(mailbox, client=client),
        HTTPStatus.OK,
        "read the voicemail",
    )
    assert voicemail.fullname == "Marie Skłodowska-Curie", voicemail.to_dict()

    refused = expect(
        delete_user.sync_detailed(user_id, client=client),
        HTTPStatus.PRECONDITION_FAILED,
        "delete the user who still has a voicemail",
    )
    assert refused == [
        "Cannot remove a user with a voicemail. Delete the voicemail or dissociate it from the user."
    ], refused
    expect(
        update_user.sync_detailed(
            user_id, client=client, body=UserInput(voicemailid=None)
        ),
        HTTPStatus.OK,
        "dissociate the voicemail",
    )
    expect(
        delete_user.sync_detailed(user_id, client=client),
        HTTPStatus.OK,
        "delete the user",
    )
    expect(
        get_user.sync_detailed(user_id, client=client),
        HTTPStatus.NOT_FOUND,
        "read the deleted user",
    )
    expect(
        delete_voicemail.sync_detailed(mailbox, client=client),
        HTTPStatus.OK,
        "delete the voicemail",
    )
    print(
        f"CRM: user {user_id} with voicemail {mailbox} created, found, edited, deleted"
    )


if __name__ == "__main__":
    with Client(base_url=sys.argv[1], raise_on_unexpected_status=True) as api:
        recording_hook(api)
        crm(api)
