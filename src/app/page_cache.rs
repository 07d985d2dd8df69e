//! The paged reads behind the window's big tables (failed rows, Browse), written once for both:
//! pages of rows read on demand into a bounded cache, the least recently drawn evicted first;
//! the reads in flight remembered so none is asked for twice; the generation of the query shown,
//! so answers to an older one are dropped; a read the loader had no room for given back; and a
//! failed read asked for again after a pause, its error kept to show.
//!
//! A read marked as on its way must end in [`PageCache::answer`], [`PageCache::give_back`] or
//! [`PageCache::failed`]; otherwise its rows would show "…" for good.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::reads::PageAnswer;

/// How long a cache whose read failed waits before asking again: a read that keeps failing
/// (a database gone bad) would otherwise be retried as fast as frames are drawn.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// At most `MAX_PAGES` pages of `Row`s.
pub struct PageCache<Row, const MAX_PAGES: usize> {
    pages: BTreeMap<u64, Vec<Row>>,
    /// Pages from least to most recently used.
    recent: VecDeque<u64>,
    pending: HashSet<u64>,
    /// No read is wanted before this, after one failed.
    paused_until: Option<Instant>,
    /// The query the pages answer; answers to any other are dropped.
    generation: u64,
    /// Why the last read failed; cleared when a page arrives.
    error: Option<String>,
}

impl<Row, const MAX_PAGES: usize> Default for PageCache<Row, MAX_PAGES> {
    fn default() -> Self {
        Self {
            pages: BTreeMap::new(),
            recent: VecDeque::new(),
            pending: HashSet::new(),
            paused_until: None,
            generation: 0,
            error: None,
        }
    }
}

impl<Row, const MAX_PAGES: usize> PageCache<Row, MAX_PAGES> {
    /// Starts holding the pages of query `generation`: those of the query before are dropped,
    /// and so will be the answers to its reads still on their way.
    pub fn restart(&mut self, generation: u64) {
        self.clear();
        self.generation = generation;
    }

    /// The query the pages answer.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Takes the answer to a read: kept when it answers the query shown, its failure
    /// remembered and its page asked for again after a pause.
    pub fn answer(&mut self, answer: PageAnswer<Row>) {
        if answer.generation == self.generation {
            self.error = self.settle(answer.page, answer.result);
        }
    }

    /// Takes back a read of `page` for query `generation` that the loader had no room for, so
    /// the page is asked for again.
    pub fn give_back(&mut self, generation: u64, page: u64) {
        if generation == self.generation {
            self.forget(page);
        }
    }

    /// Why the last read failed, until a page arrives.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    /// Row `index` of the whole table, if its page of `page_rows` is here.
    pub fn row(&self, index: u64, page_rows: u64) -> Option<&Row> {
        self.pages
            .get(&(index / page_rows))
            .and_then(|rows| rows.get((index % page_rows) as usize))
    }

    /// Every row held now, for measuring them.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.pages.values().flatten()
    }

    /// Whether `page` should be read now: it is neither here nor on its way, fewer than
    /// `max_pending` reads are in flight, and no read failed just now. A `true` counts it as on
    /// its way.
    pub fn want(&mut self, page: u64, max_pending: usize) -> bool {
        if self.pages.contains_key(&page) || self.pending.len() >= max_pending || self.paused_for().is_some() {
            return false;
        }
        self.pending.insert(page)
    }

    /// Forgets that `page` is on its way (its request never left), so it is wanted again.
    pub fn forget(&mut self, page: u64) {
        self.pending.remove(&page);
    }

    /// Forgets that `page` is on its way because its read failed: it is wanted again, after a
    /// pause.
    pub fn failed(&mut self, page: u64) {
        self.forget(page);
        self.paused_until = Some(Instant::now() + PAUSE_AFTER_FAILURE);
    }

    /// How long until pages are wanted again after a failed read, if that is still ahead.
    pub fn paused_for(&self) -> Option<Duration> {
        self.paused_until
            .map(|until| until.saturating_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
    }

    /// Keeps a page that arrived, evicting the least recently used beyond the bound.
    pub fn insert(&mut self, page: u64, rows: Vec<Row>) {
        self.pending.remove(&page);
        self.pages.insert(page, rows);
        self.touch(page);
        while self.pages.len() > MAX_PAGES {
            let Some(oldest) = self.recent.pop_front() else { break };
            self.pages.remove(&oldest);
        }
    }

    /// Takes the answer to a read of `page`: its rows are kept, or its read is marked failed.
    /// Returns the error to show, if any.
    fn settle(&mut self, page: u64, result: Result<Vec<Row>, String>) -> Option<String> {
        match result {
            Ok(rows) => {
                self.insert(page, rows);
                None
            }
            Err(error) => {
                self.failed(page);
                Some(error)
            }
        }
    }

    /// Marks `page` as just drawn.
    pub fn touch(&mut self, page: u64) {
        self.recent.retain(|p| *p != page);
        self.recent.push_back(page);
    }

    pub fn clear(&mut self) {
        self.pages.clear();
        self.recent.clear();
        self.pending.clear();
        self.paused_until = None;
        self.error = None;
    }

    /// Whether `page` is marked as on its way.
    #[cfg(test)]
    pub fn is_pending(&self, page: u64) -> bool {
        self.pending.contains(&page)
    }

    /// Lets the pause after a failed read end now, as if its time had passed.
    #[cfg(test)]
    pub fn end_pause(&mut self) {
        self.paused_until = None;
    }

    #[cfg(test)]
    pub fn contains(&self, page: u64) -> bool {
        self.pages.contains_key(&page)
    }

    #[cfg(test)]
    pub fn page_numbers(&self) -> Vec<u64> {
        self.pages.keys().copied().collect()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.pages.len()
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn keeps_its_bound_and_evicts_the_least_recently_used() {
        let mut cache: PageCache<u64, 3> = PageCache::default();
        for page in 0..10 {
            cache.insert(page, vec![page]);
            assert!(cache.len() <= 3);
            assert_eq!(cache.recent.len(), cache.len());
        }
        assert_eq!(cache.page_numbers(), vec![7, 8, 9]);
        cache.touch(7);
        cache.insert(10, vec![10]);
        assert_eq!(cache.page_numbers(), vec![7, 9, 10]);
        assert_eq!(cache.row(20, 2), Some(&10), "row 20 is the first of page 10");
        assert_eq!(cache.row(21, 2), None);
    }

    #[test]
    fn a_page_is_wanted_once_and_not_beyond_the_reads_in_flight() {
        let mut cache: PageCache<u8, 3> = PageCache::default();
        assert!(cache.want(1, 2));
        assert!(!cache.want(1, 2), "already on its way");
        assert!(cache.want(2, 2));
        assert!(!cache.want(3, 2), "two reads in flight");
        cache.insert(1, vec![]);
        assert!(!cache.want(1, 2), "already here");
        assert!(cache.want(3, 2));
    }

    #[test]
    fn a_page_given_back_is_wanted_again_at_once() {
        let mut cache: PageCache<u8, 3> = PageCache::default();
        assert!(cache.want(4, 8));
        assert!(!cache.want(4, 8));
        cache.forget(4);
        assert!(!cache.is_pending(4));
        assert!(cache.want(4, 8));
    }

    #[test]
    fn answers_and_give_backs_of_an_older_query_change_nothing() {
        let mut cache: PageCache<u8, 3> = PageCache::default();
        cache.restart(2);
        assert!(cache.want(1, 8));
        let old = |page, result| PageAnswer {
            generation: 1,
            page,
            result,
        };
        cache.answer(old(1, Ok(vec![9])));
        cache.give_back(1, 1);
        assert!(cache.is_pending(1) && !cache.contains(1));
        cache.answer(PageAnswer {
            generation: 2,
            page: 1,
            result: Err("gone".into()),
        });
        assert_eq!(cache.error(), Some("gone"));
        cache.end_pause();
        assert!(cache.want(1, 8));
        cache.answer(PageAnswer {
            generation: 2,
            page: 1,
            result: Ok(vec![7]),
        });
        assert_eq!((cache.row(3, 3), cache.error()), (Some(&7), None));
    }

    #[test]
    fn a_failed_read_is_wanted_again_after_a_pause() {
        let mut cache: PageCache<u8, 3> = PageCache::default();
        assert!(cache.want(4, 8));
        cache.failed(4);
        assert!(!cache.is_pending(4), "the failed read is no longer on its way");
        assert!(cache.paused_for().is_some());
        assert!(!cache.want(4, 8), "not asked again at once");
        cache.end_pause();
        assert!(cache.want(4, 8), "asked again once the pause is over");
    }
}
