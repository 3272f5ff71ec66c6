//! Handing a reply to Spin: the head, then the body, held whole or streamed.

use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};

use super::reply::{Reply, Stream};
use crate::host_error;

/// Hand the reply to Spin: in one piece when it is held whole, else as it is produced. To a
/// `HEAD`, the head that a `GET` would get (its `Content-Length` included), and no body.
///
/// Spin does not set `TCP_NODELAY` on the connections it accepts, so when a response reaches
/// the socket in several writes (the head, then the body, then the end of a chunked body),
/// Nagle's algorithm holds each later write until the client has acknowledged the earlier
/// one, and a client that delays its ACK (40 ms on Linux) stalls the response that long. The
/// host writes the head as soon as [`ResponseOutparam::set`] is called and each piece of body
/// as it comes, so the pieces split whenever the host is quicker than the guest. Here the body
/// is written and finished before `set`, with its `Content-Length`: the host then holds the
/// whole response when it starts writing, and sends it at once. Before `set` nothing drains
/// the body, so only what the host's buffer takes without waiting (`check-write`, a MiB or
/// two) goes first; a larger body streams the rest after `set`.
pub(super) fn respond(out: ResponseOutparam, reply: Reply, head: bool) {
    let length = match &reply.stream {
        Some(stream) => stream.length,
        None => Some(reply.body.len() as u64),
    };
    let mut headers: Vec<(String, Vec<u8>)> = reply
        .headers
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    if let Some(length) = length.filter(|_| status_allows_body(reply.status)) {
        headers.push(("content-length".into(), length.to_string().into_bytes()));
    }
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(reply.status);
    let Ok(body) = response.body() else {
        return eprintln!("could not send the response: its body was taken");
    };
    if head {
        // The host sends no body to a HEAD: the body is left unwritten, and dropped.
        out.set(response);
        return;
    }
    let Ok(stream) = body.write() else {
        return eprintln!("could not send the response: its body is not writable");
    };
    if let Some(Stream { pieces, .. }) = reply.stream {
        out.set(response);
        for piece in pieces {
            let written =
                piece.and_then(|p| write_all(&stream, &p).map_err(|e| host_error::stream(&e)));
            if let Err(e) = written {
                // Dropping the body unfinished tells the host the response was cut short.
                return eprintln!("could not send the response: {e}");
            }
        }
        finish(stream, body);
        return;
    }

    let mut rest = reply.body.as_slice();
    while let Ok(room @ 1..) = stream.check_write() {
        let n = rest.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if n == 0 || stream.write(&rest[..n]).is_err() {
            break;
        }
        rest = &rest[n..];
    }
    if rest.is_empty() {
        if finish(stream, body) {
            out.set(response);
        }
        return;
    }
    out.set(response);
    // A large body: the host drains it now.
    if let Err(e) = write_all(&stream, rest) {
        return eprintln!("could not send the response: {}", host_error::stream(&e));
    }
    finish(stream, body);
}

/// Write all of `data`, as fast as the host takes it: as much as `check-write` allows at a
/// time, waiting for room when there is none.
fn write_all(
    stream: &wasi::io::streams::OutputStream,
    mut data: &[u8],
) -> Result<(), wasi::io::streams::StreamError> {
    let room = stream.subscribe();
    while !data.is_empty() {
        let n = usize::try_from(stream.check_write()?).unwrap_or(usize::MAX);
        if n == 0 {
            room.block();
            continue;
        }
        let n = n.min(data.len());
        stream.write(&data[..n])?;
        data = &data[n..];
    }
    Ok(())
}

/// End a response body; false (logged) when the host refuses it.
fn finish(stream: wasi::io::streams::OutputStream, body: OutgoingBody) -> bool {
    drop(stream);
    match OutgoingBody::finish(body, None) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("could not send the response: {}", host_error::describe(&e));
            false
        }
    }
}

/// Whether a response with this status may carry a body (and so a `Content-Length`).
fn status_allows_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}
