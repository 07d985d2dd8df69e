//! The window's reader thread: everything the window needs from disk or DuckDB (sniffing a file,
//! pages of failed rows, the job history) is asked for here and answered over a channel, so no
//! drawing code ever waits on I/O.
//!
//! No request is lost without someone knowing. The queue to the thread is bounded, so the frame
//! never blocks on it; when it is full, a request a person is waiting on (a report, a schema, a
//! memory limit, a summary) waits in the loader's outbox and goes with a later [`Loader::pump`],
//! while a page or preview, which its view asks for again, is given back by
//! [`Loader::try_request`] so the view can forget it asked. An answer names the request it
//! answers, errors included, so a view can clear what it marked as on its way.

use std::collections::VecDeque;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use sluice::store::Store;

use super::reads::{LoadRequest, Loaded, read};

/// Requests queued for the reader thread at most; beyond this they wait (see the module doc).
const QUEUE_CAPACITY: usize = 64;

pub struct Loader {
    requests: Option<Sender<LoadRequest>>,
    /// Requests that must reach the thread but found the queue full, oldest first.
    outbox: VecDeque<LoadRequest>,
    results: Receiver<Loaded>,
    thread: Option<JoinHandle<()>>,
}

impl Loader {
    /// Starts a reader thread called `name` on its own connection.
    pub fn start(name: &str, store: Store, wake: impl Fn() + Send + 'static) -> std::io::Result<Self> {
        let (requests, request_receiver) = bounded::<LoadRequest>(QUEUE_CAPACITY);
        let (result_sender, results) = bounded(64);
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
            while let Ok(first) = request_receiver.recv() {
                // Take everything queued so far and skip what newer requests make useless (a
                // preview for a filter already changed again, pages of a sort already replaced).
                let mut batch = vec![first];
                batch.extend(request_receiver.try_iter());
                let keep: Vec<bool> = (0..batch.len())
                    .map(|index| !batch[index + 1..].iter().any(|newer| batch[index].superseded_by(newer)))
                    .collect();
                let wanted = batch
                    .into_iter()
                    .zip(keep)
                    .filter_map(|(request, keep)| keep.then_some(request));
                for request in wanted {
                    let loaded = read(&store, request);
                    if result_sender.send(loaded).is_err() {
                        return;
                    }
                    wake();
                }
            }
        })?;
        Ok(Self {
            requests: Some(requests),
            outbox: VecDeque::new(),
            results,
            thread: Some(thread),
        })
    }

    /// A loader with no thread behind a queue of `capacity`, and the queue's far end, so a test
    /// can fill the queue and make room in it at will.
    #[cfg(test)]
    pub fn unstarted(capacity: usize) -> (Self, Receiver<LoadRequest>) {
        let (requests, request_receiver) = bounded(capacity);
        let (_, results) = bounded(1);
        let loader = Self {
            requests: Some(requests),
            outbox: VecDeque::new(),
            results,
            thread: None,
        };
        (loader, request_receiver)
    }

    /// Queues a request someone waits on; it is never dropped: with the queue full it waits in
    /// the outbox, behind any already waiting, and goes with a later [`Self::pump`].
    pub fn request(&mut self, request: LoadRequest) {
        self.pump();
        // The same read already waiting would bring the same answer.
        if self.outbox.iter().any(|waiting| waiting.same_read(&request)) {
            return;
        }
        if !self.outbox.is_empty() {
            self.outbox.push_back(request);
            return;
        }
        if let Some(request) = self.send_or_give_back(request) {
            self.outbox.push_back(request);
        }
    }

    /// Queues a request its view asks for again when it is still wanted (a page, a preview).
    /// With the queue full it is given back: the view must forget it asked, or it would wait
    /// for an answer that never comes.
    pub fn try_request(&mut self, request: LoadRequest) -> Result<(), LoadRequest> {
        match self.send_or_give_back(request) {
            Some(request) => Err(request),
            None => Ok(()),
        }
    }

    /// Sends what waits in the outbox, as far as the queue has room.
    pub fn pump(&mut self) {
        while let Some(request) = self.outbox.pop_front() {
            if let Some(request) = self.send_or_give_back(request) {
                self.outbox.push_front(request);
                break;
            }
        }
    }

    /// Whether requests wait in the outbox for room in the queue.
    pub fn backed_up(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// Queues `request`, or gives it back when the queue is full. A loader whose thread is gone
    /// answers nothing, now or later, so what is sent to it is dropped, not given back.
    fn send_or_give_back(&self, request: LoadRequest) -> Option<LoadRequest> {
        let requests = self.requests.as_ref()?;
        match requests.try_send(request) {
            Err(TrySendError::Full(request)) => Some(request),
            Ok(()) | Err(TrySendError::Disconnected(_)) => None,
        }
    }

    pub fn try_recv(&self) -> Option<Loaded> {
        self.results.try_recv().ok()
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            while !thread.is_finished() {
                while self.results.try_recv().is_ok() {}
                std::thread::yield_now();
            }
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod unit_tests {
    use std::path::PathBuf;

    use super::*;
    use crate::app::reads::FailedRead;

    fn page(page: u64) -> LoadRequest {
        LoadRequest::Failed(FailedRead::Page {
            job_id: 1,
            filter: Box::default(),
            page,
            start: 1,
            next_start: None,
            generation: 1,
        })
    }

    #[test]
    fn a_full_queue_gives_a_page_back_and_keeps_a_user_action_until_there_is_room() {
        let (mut loader, queue) = Loader::unstarted(1);
        loader.request(LoadRequest::Jobs);
        assert!(!loader.backed_up(), "the queue had room");

        match loader.try_request(page(3)) {
            Err(LoadRequest::Failed(FailedRead::Page { page: 3, .. })) => {}
            other => panic!("the page should come back, got {other:?}"),
        }
        loader.request(LoadRequest::Failed(FailedRead::Report {
            job_id: 7,
            path: PathBuf::from("report.csv"),
        }));
        assert!(loader.backed_up(), "the report waits for room");
        loader.pump();
        assert!(loader.backed_up(), "still no room");

        assert!(matches!(queue.try_recv(), Ok(LoadRequest::Jobs)));
        assert!(queue.try_recv().is_err());
        loader.pump();
        assert!(!loader.backed_up());
        assert!(matches!(
            queue.try_recv(),
            Ok(LoadRequest::Failed(FailedRead::Report { job_id: 7, .. }))
        ));
    }

    #[test]
    fn requests_waiting_for_room_keep_their_order_and_a_repeated_read_waits_once() {
        let (mut loader, queue) = Loader::unstarted(1);
        loader.request(LoadRequest::Jobs);
        loader.request(LoadRequest::Tables);
        loader.request(LoadRequest::SetMemoryLimit("1GB".into()));
        loader.request(LoadRequest::Tables);
        let mut delivered = Vec::new();
        while let Ok(request) = queue.try_recv() {
            delivered.push(format!("{request:?}"));
            loader.pump();
        }
        assert_eq!(delivered, ["Jobs", "Tables", "SetMemoryLimit(\"1GB\")"]);
        assert!(!loader.backed_up());
    }
}
