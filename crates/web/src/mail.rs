//! Email through an SMTP server, when one is configured. Messages wait in the
//! database outbox (so a decision is never lost to a mail server being down)
//! and one task per process hands them over, retrying failures.

use std::time::Duration;

use kindred_store::Db;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where to send mail: an `smtp://` (or `smtps://`) URL as lettre reads it,
/// such as `smtp://mail.example.org:587?tls=required`, and the From address.
#[derive(Debug, Clone)]
pub struct Smtp {
    pub url: String,
    pub from: String,
}

/// Starts the outbox sender. Fails at once if the URL or From address is malformed.
pub fn spawn_sender(db: Db, smtp: Smtp) -> anyhow::Result<()> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)?.build();
    let from: Mailbox = smtp.from.parse()?;
    tokio::spawn(async move {
        loop {
            if let Err(e) = drain(&db, &transport, &from).await {
                tracing::warn!(error = %e, "email outbox could not be read");
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    Ok(())
}

/// Sends what is waiting; returns how many were sent.
pub async fn drain(db: &Db, transport: &AsyncSmtpTransport<Tokio1Executor>, from: &Mailbox) -> anyhow::Result<usize> {
    let mut sent = 0;
    for email in db.pending_emails(50).await? {
        let to: Mailbox = match email.to_address.parse() {
            Ok(m) => m,
            Err(e) => {
                db.email_failed(email.id, &format!("bad address: {e}")).await?;
                continue;
            }
        };
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(email.subject.clone())
            .body(email.body.clone())?;
        match transport.send(message).await {
            Ok(_) => {
                db.email_sent(email.id).await?;
                sent += 1;
            }
            Err(e) => {
                // The error names the server's reply, never the recipient.
                tracing::warn!(outbox_id = email.id, attempts = email.attempts + 1, "email not sent");
                db.email_failed(email.id, &e.to_string()).await?;
            }
        }
    }
    Ok(sent)
}
