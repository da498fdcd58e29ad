//! Reading a sheet on its own thread while the database work goes on, in bounded batches,
//! so memory stays flat however long the file is and parsing overlaps the writes.

use taizhang_tabular::{ColumnSpec, RawRow, ReadError, RowSink, SheetLayout, Source};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::progress::Progress;
use crate::{ExchangeError, Result};

/// Rows handed over at a time.
pub(crate) const BATCH_ROWS: usize = 2_000;
/// Text a batch holds at most, whatever its row count: rows of long cells (a 32,767-character
/// remark in each) would otherwise make 2,000 rows a gigabyte.
pub(crate) const BATCH_TEXT_BYTES: usize = 16 << 20;
/// Batches in flight between the reader and the importer: with `BATCH_TEXT_BYTES`, the
/// memory bound.
const BATCHES_IN_FLIGHT: usize = 4;

/// What the reader hands over: rows as read (`RawRow`), or as the reader's thread made them
/// ready for the importer (`stream_rows_with`).
pub(crate) enum Chunk<T = RawRow> {
    /// Always first: the header found and the columns bound.
    Layout(SheetLayout),
    Rows(Vec<T>),
}

/// The receiving end; the reader's own result arrives when it has finished.
pub(crate) struct RowStream<T = RawRow> {
    pub(crate) rx: mpsc::Receiver<Chunk<T>>,
    reader: JoinHandle<(Source, Result<SheetLayout>)>,
}

impl<T> RowStream<T> {
    /// Waits for the reader: the final layout (with counts), or the error that stopped it.
    pub(crate) async fn finish(self) -> Result<SheetLayout> {
        self.finish_with_source().await.1
    }

    /// As `finish`, and the source back, to read its next sheet (`None` if the reader's
    /// thread died).
    pub(crate) async fn finish_with_source(self) -> (Option<Source>, Result<SheetLayout>) {
        drop(self.rx);
        match self.reader.await {
            Ok((source, r)) => (Some(source), r),
            Err(e) => (None, Err(ExchangeError::Usage(format!("读取文件的线程意外终止：{e}")))),
        }
    }
}

/// The importer stopped listening (it failed); the reader just stops.
struct Closed;

struct ChannelSink<T, F> {
    tx: mpsc::Sender<Chunk<T>>,
    /// What the reader's thread makes of each row before handing it over.
    ready: F,
    batch: Vec<T>,
    /// Text bytes of the rows in `batch`.
    bytes: usize,
    progress: Progress,
    read: u64,
}

impl<T, F> ChannelSink<T, F> {
    fn send(&mut self, c: Chunk<T>) -> std::result::Result<(), Closed> {
        self.tx.blocking_send(c).map_err(|_| Closed)
    }
}

impl<T, F: FnMut(RawRow) -> T> RowSink<Closed> for ChannelSink<T, F> {
    fn layout(&mut self, layout: &SheetLayout) -> std::result::Result<(), Closed> {
        if let Some(total) = layout.rows_hint {
            self.progress.set_total(total);
        }
        self.send(Chunk::Layout(layout.clone()))
    }

    fn row(&mut self, row: RawRow) -> std::result::Result<(), Closed> {
        self.bytes += row.text_bytes();
        let ready = (self.ready)(row);
        self.batch.push(ready);
        self.read += 1;
        if self.batch.len() >= BATCH_ROWS || self.bytes >= BATCH_TEXT_BYTES {
            self.bytes = 0;
            self.progress.set(self.read);
            let rows = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
            self.send(Chunk::Rows(rows))?;
        }
        Ok(())
    }
}

/// Starts reading `sheet` of `source` on a blocking thread.
pub(crate) fn stream_rows(source: Source, sheet: String, specs: Vec<ColumnSpec>, progress: bool) -> RowStream {
    stream_rows_with(source, sheet, specs, progress, |row| row)
}

/// As `stream_rows`, each row passed through `ready` on the reader's thread: work a row
/// needs that needs no database is done there, ahead of the importer, while the importer
/// waits on the database with the batch before.
pub(crate) fn stream_rows_with<T, F>(mut source: Source, sheet: String, specs: Vec<ColumnSpec>, progress: bool, ready: F) -> RowStream<T>
where
    T: Send + 'static,
    F: FnMut(RawRow) -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel(BATCHES_IN_FLIGHT);
    let reader = tokio::task::spawn_blocking(move || {
        let mut sink = ChannelSink { tx, ready, batch: Vec::with_capacity(BATCH_ROWS), bytes: 0, progress: Progress::new(None, "导入", progress), read: 0 };
        let result = source.read_sheet(&sheet, &specs, &mut sink);
        let read = (|| {
            let layout = match result {
                Ok(l) => l,
                Err(ReadError::Tabular(t)) => return Err(ExchangeError::Tabular(t)),
                // The importer has gone (it failed and will report why); nothing more to say here.
                Err(ReadError::Callback(Closed)) => return Err(ExchangeError::Usage("导入已中止".into())),
            };
            let rest = std::mem::take(&mut sink.batch);
            if !rest.is_empty() && sink.send(Chunk::Rows(rest)).is_err() {
                return Err(ExchangeError::Usage("导入已中止".into()));
            }
            sink.progress.finish();
            Ok(layout)
        })();
        (source, read)
    });
    RowStream { rx, reader }
}
