#include "server/service/watcher.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "server/service/pipeline.h"
#include "server/service/views.h"

namespace handover::service {
namespace {
// A stream cut off for stalling whose client still takes nothing this long
// after is cancelled, freeing the call.
constexpr auto kCancelAfterFinish = std::chrono::seconds(10);
}  // namespace

Watcher* Watcher::Start(grpc::CallbackServerContext* context, store::CaseStore* store,
                        feed::FeedHub* hub, Caller caller, store::FeedQuery query,
                        WatchOptions options, v1::AccessRecord audit) {
  std::shared_ptr<Watcher> watcher(new Watcher(context, store, hub, std::move(caller),
                                               std::move(query), options, std::move(audit)));
  watcher->self_ = watcher;
  hub->Add(watcher);
  watcher->Pump();
  return watcher.get();
}

Watcher::Watcher(grpc::CallbackServerContext* context, store::CaseStore* store, feed::FeedHub* hub,
                 Caller caller, store::FeedQuery query, WatchOptions options,
                 v1::AccessRecord audit)
    : context_(context),
      store_(store),
      hub_(hub),
      caller_(std::move(caller)),
      query_(std::move(query)),
      options_(options),
      audit_(std::move(audit)),
      cursor_(query_.after_revision) {}

void Watcher::Pump() {
  bool write = false;
  bool more_queued = false;  // more events right behind this one
  bool read = false;
  store::FeedQuery query;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (!writing_) {
      if (!pending_.empty()) {
        in_flight_ = std::move(pending_.front());
        pending_.pop_front();
        // gRPC never completes a hinted write that carries the stream's
        // headers (the first one): only later writes may be held.
        more_queued = !pending_.empty() && headers_sent_;
        write = true;
      } else if (progress_due_ && !reading_ && !more_to_read_) {
        in_flight_.Clear();
        in_flight_.set_progress_revision(cursor_);
        in_flight_.set_feed_epoch(store_->feed_epoch());
        progress_due_ = false;
        write = true;
      }
      if (write) {
        writing_ = true;
        write_started_ = std::chrono::steady_clock::now();
        last_sent_ = write_started_;
      }
    }
    if (!reading_ && pending_.empty() && more_to_read_) {
      reading_ = true;
      more_to_read_ = false;
      query = query_;
      query.after_revision = cursor_;
      query.page_size = options_.batch_size;
      read = true;
    }
  }
  // With more events right behind, let the transport hold this one and send
  // them together (one write to the socket for several events);
  // the last of a run is written without the hint, which sends them.
  if (write)
    StartWrite(&in_flight_,
               more_queued ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions());
  if (!read) return;
  // Caught-up watchers without case content read the hub's in-memory tail.
  store::FeedPage page;
  if (!query.include_cases &&
      hub_->ReadTail(query.filter, query.after_revision, query.page_size, &page)) {
    OnRead(std::move(page));
    return;
  }
  store_->ReadFeed(std::move(query),
                   [self = shared_from_this()](auto result) { self->OnRead(std::move(result)); });
}

void Watcher::OnRead(absl::StatusOr<store::FeedPage> page) {
  if (!page.ok()) {
    FinishWith(page.status());
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;  // nothing will be sent: nothing to record
  }
  std::deque<v1::WatchResponse> batch;
  v1::AccessRecord record = audit_;
  DisclosedCases disclosed(&record);
  for (store::FeedEvent& event : page->events) {
    v1::WatchResponse response;
    *response.mutable_event() = EventView(caller_.principal, event);
    // Once per stream with events (and on every progress message): on every
    // event it cost 15% of the events delivered to 200 watchers.
    if (!epoch_sent_) {
      response.set_feed_epoch(store_->feed_epoch());
      epoch_sent_ = true;
    }
    if (response.event().has_case_()) disclosed.Add(response.event().case_());
    batch.push_back(std::move(response));
  }
  if (record.case_names().empty()) {
    Deliver(std::move(batch), *page);  // no personal data in this batch
    return;
  }
  // Case content leaves only once its access record is durable.
  record.set_outcome("OK");
  store_->RecordAccess(
      std::move(record), [self = shared_from_this(), batch = std::move(batch),
                          page = *std::move(page)](absl::StatusOr<int64_t> logged) mutable {
        if (!logged.ok()) {
          self->FinishWith(
              absl::UnavailableError("watch: the access log could not be written; resume later"));
          return;
        }
        self->Deliver(std::move(batch), page);
      });
}

void Watcher::Deliver(std::deque<v1::WatchResponse> batch, const store::FeedPage& page) {
  {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    if (finished_) return;
    for (auto& response : batch) pending_.push_back(std::move(response));
    cursor_ = page.scanned_through;
    if (!page.caught_up) more_to_read_ = true;
  }
  Pump();
}

void Watcher::OnWriteDone(bool ok) {
  bool finish = false;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    headers_sent_ = true;
    if (finish_pending_) {
      finish_pending_ = false;
      finish = true;
      status = finish_after_write_;
    } else if (!ok && !finished_) {
      // The client went away; OnCancel follows.
      finished_ = true;
      finish = true;
      status = absl::CancelledError("watch: the client went away");
    }
  }
  if (finish) {
    Finish(ToGrpcStatus(status));
    return;
  }
  Pump();
}

bool Watcher::FinishLocked(const absl::Status& status) {
  if (finished_) return false;
  finished_ = true;
  pending_.clear();
  if (writing_) {
    finish_after_write_ = status;
    finish_pending_ = true;
    return false;
  }
  return true;
}

void Watcher::FinishWith(const absl::Status& status) {
  bool finish;
  {
    absl::MutexLock lock(&mu_);
    finish = FinishLocked(status);
  }
  if (finish) Finish(ToGrpcStatus(status));
}

void Watcher::OnCancel() { FinishWith(absl::CancelledError("watch: cancelled")); }

void Watcher::OnShutdown() {
  FinishWith(absl::UnavailableError(
      "watch: the server is shutting down; resume from the last revision you received"));
}

void Watcher::OnDone() {
  std::shared_ptr<Watcher> last;
  {
    absl::MutexLock lock(&mu_);
    finished_ = true;
    last = std::move(self_);  // released after the lock; may delete this
  }
}

void Watcher::OnCommit(int64_t head_revision) {
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || head_revision <= cursor_) return;
    more_to_read_ = true;
  }
  Pump();
}

void Watcher::OnTick(std::chrono::steady_clock::time_point now) {
  bool stalled = false;
  bool cancel = false;
  int64_t cursor = 0;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) {
      // Finished while a write was stuck: if the client still takes nothing,
      // cancel, so the call and its buffered message are freed.
      cancel = writing_ && !cancelled_ && now - finished_at_ > kCancelAfterFinish &&
               now - finished_at_ > options_.stall_timeout;
      cancelled_ = cancelled_ || cancel;
    } else if (writing_ && now - write_started_ > options_.stall_timeout) {
      // The client has not taken a message for too long. Finish now: the
      // status follows the messages already in the transport, and the stream
      // holds nothing more.
      finished_ = true;
      finished_at_ = now;
      pending_.clear();
      stalled = true;
      cursor = cursor_;
    } else if (now - last_sent_ >= options_.progress_interval) {
      progress_due_ = true;
    }
  }
  if (cancel) {
    context_->TryCancel();
    return;
  }
  if (stalled) {
    Finish(ToGrpcStatus(absl::ResourceExhaustedError(
        absl::StrCat("watch: the client fell behind (a message waited more than ",
                     options_.stall_timeout.count(), " ms; revisions up to ", cursor,
                     " were read); resume with after_revision = the last revision you received"))));
    return;
  }
  Pump();
}

}  // namespace handover::service
