//! The window's two reader threads and which request goes to which: quick reads (sniffing,
//! failed rows, jobs, tables) on one, reads that may take a while on big tables (counts,
//! previews, page indexes) on the other, so the slow never hold up the quick.

use sluice::store::Store;

use super::loader::Loader;
use super::reads::{LoadRequest, Loaded};

pub struct Loaders {
    quick: Loader,
    slow: Loader,
}

impl Loaders {
    pub fn start(store: &Store, ctx: &egui::Context) -> anyhow::Result<Self> {
        let quick_ctx = ctx.clone();
        let quick = Loader::start("sluice-ui-loader", store.try_clone()?, move || {
            quick_ctx.request_repaint()
        })?;
        let slow_ctx = ctx.clone();
        let slow = Loader::start("sluice-ui-queries", store.try_clone()?, move || {
            slow_ctx.request_repaint()
        })?;
        Ok(Self { quick, slow })
    }

    /// Sends `request` to its thread. A request its view asks for again (a page, a preview) is
    /// given back when there is no room, so the view can forget it asked; any other waits its
    /// turn and is never dropped.
    pub fn send(&mut self, request: LoadRequest) -> Result<(), LoadRequest> {
        let loader = if request.is_slow() {
            &mut self.slow
        } else {
            &mut self.quick
        };
        if request.is_asked_again() {
            loader.try_request(request)
        } else {
            loader.request(request);
            Ok(())
        }
    }

    /// Sends what waits for room; true while something still waits.
    pub fn pump(&mut self) -> bool {
        self.quick.pump();
        self.slow.pump();
        self.quick.backed_up() || self.slow.backed_up()
    }

    /// The answers that have come in, quick ones first.
    pub fn answers(&self) -> Vec<Loaded> {
        std::iter::from_fn(|| self.quick.try_recv())
            .chain(std::iter::from_fn(|| self.slow.try_recv()))
            .collect()
    }
}
