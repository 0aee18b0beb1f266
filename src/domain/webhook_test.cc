#include "domain/webhook.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "common/time_util.h"
#include "domain/account.h"
#include "storage/test_database.h"
#include "tests/support/temp_dir.h"

namespace kino::domain {
namespace {

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::OpenTestDatabase(dir_.path());
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    ASSERT_TRUE(AccountRepository::Ensure(*db_, account_).ok());
  }

  std::string AddEvent(std::string_view video_uid) {
    auto id = WebhookRepository::AddEvent(*db_, account_, video_uid, kEventVideoReady, "{}");
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : "";
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::string account_ = NewId();
};

TEST_F(WebhookTest, GetIsEmptyWithoutSubscription) {
  auto w = WebhookRepository::Get(*db_, account_);
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->has_value());
}

TEST_F(WebhookTest, PutKeepsTheSecretWhenTheUrlChanges) {
  auto first = WebhookRepository::Put(*db_, account_, "https://a.example/h", std::nullopt);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(IsId(first->secret));
  EXPECT_FALSE(first->download_events);

  auto second = WebhookRepository::Put(*db_, account_, "https://b.example/h", true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->secret, first->secret);
  EXPECT_TRUE(second->download_events);

  auto third = WebhookRepository::Put(*db_, account_, "https://c.example/h", std::nullopt);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->download_events);  // kept when not given
  auto got = WebhookRepository::Get(*db_, account_);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->notification_url, "https://c.example/h");
  EXPECT_EQ((*got)->secret, first->secret);
}

TEST_F(WebhookTest, DeleteCancelsPendingEvents) {
  ASSERT_TRUE(WebhookRepository::Put(*db_, account_, "https://a.example/h", false).ok());
  std::string id = AddEvent(NewId());
  EXPECT_TRUE(*WebhookRepository::Delete(*db_, account_));
  EXPECT_FALSE(*WebhookRepository::Delete(*db_, account_));
  auto e = WebhookRepository::GetEvent(*db_, id);
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->state, EventState::kCancelled);
}

TEST_F(WebhookTest, EventsOfAVideoAreNumberedInOrder) {
  std::string uid = NewId();
  std::string a = AddEvent(uid);
  std::string b = AddEvent(uid);
  std::string other = AddEvent(NewId());
  auto ea = *WebhookRepository::GetEvent(*db_, a);
  auto eb = *WebhookRepository::GetEvent(*db_, b);
  auto eo = *WebhookRepository::GetEvent(*db_, other);
  EXPECT_EQ(ea->seq, 1);
  EXPECT_EQ(eb->seq, 2);
  EXPECT_EQ(eo->seq, 1);
  EXPECT_FALSE(*WebhookRepository::HasEarlierPending(*db_, *ea));
  EXPECT_TRUE(*WebhookRepository::HasEarlierPending(*db_, *eb));
  EXPECT_EQ(**WebhookRepository::FirstPending(*db_, uid), a);

  ASSERT_TRUE(WebhookRepository::MarkDelivered(*db_, a, NowMicros(), 200).ok());
  EXPECT_FALSE(*WebhookRepository::HasEarlierPending(*db_, *eb));
  EXPECT_EQ(**WebhookRepository::FirstPending(*db_, uid), b);
}

TEST_F(WebhookTest, ClaimIsExclusiveUntilReleased) {
  std::string id = AddEvent(NewId());
  int64_t now = NowMicros();
  EXPECT_TRUE(*WebhookRepository::Claim(*db_, id, now, now + 60'000'000));
  EXPECT_FALSE(*WebhookRepository::Claim(*db_, id, now, now + 60'000'000));
  ASSERT_TRUE(WebhookRepository::Release(*db_, id, now).ok());
  EXPECT_TRUE(*WebhookRepository::Claim(*db_, id, now, now + 60'000'000));
  EXPECT_EQ((*WebhookRepository::GetEvent(*db_, id))->attempts, 1);

  // A claim past its end is free again (the worker that held it died).
  EXPECT_TRUE(*WebhookRepository::Claim(*db_, id, now + 61'000'000, now + 120'000'000));
}

TEST_F(WebhookTest, FinishedEventsCannotBeClaimed) {
  std::string id = AddEvent(NewId());
  ASSERT_TRUE(WebhookRepository::Finish(*db_, id, EventState::kGivenUp, 500, "HTTP 500").ok());
  EXPECT_FALSE(*WebhookRepository::Claim(*db_, id, NowMicros() + 1, NowMicros() + 2));
  EXPECT_EQ((*WebhookRepository::GetEvent(*db_, id))->state, EventState::kGivenUp);
}

TEST_F(WebhookTest, AttemptsListNewestFirstWithTheEventKind) {
  std::string uid = NewId();
  std::string id = AddEvent(uid);
  for (int i = 0; i < 3; ++i) {
    WebhookAttempt a;
    a.event_id = id;
    a.attempted = 1000 + i;
    a.http_status = 500 + i;
    a.latency_ms = i;
    a.error = i == 0 ? "" : "x";
    ASSERT_TRUE(WebhookRepository::AddAttempt(*db_, account_, a).ok());
  }
  WebhookAttempt no_status;
  no_status.event_id = id;
  no_status.attempted = 999;
  no_status.error = "connection refused";
  ASSERT_TRUE(WebhookRepository::AddAttempt(*db_, account_, no_status).ok());

  auto list = WebhookRepository::ListAttempts(*db_, account_, 3);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].attempted, 1002);
  EXPECT_EQ((*list)[0].http_status, 502);
  EXPECT_EQ((*list)[0].kind, kEventVideoReady);
  EXPECT_EQ((*list)[0].video_uid, uid);
  EXPECT_EQ((*list)[0].event_state, EventState::kPending);
  auto all = *WebhookRepository::ListAttempts(*db_, account_, 50);
  EXPECT_FALSE(all.back().http_status.has_value());
  EXPECT_TRUE(WebhookRepository::ListAttempts(*db_, NewId(), 50)->empty());
}

TEST_F(WebhookTest, EndedEventsOlderThanTheCutoffAreDeletedWithTheirAttempts) {
  std::string delivered = AddEvent(NewId());
  std::string given_up = AddEvent(NewId());
  std::string pending = AddEvent(NewId());
  ASSERT_TRUE(WebhookRepository::MarkDelivered(*db_, delivered, NowMicros(), 200).ok());
  ASSERT_TRUE(WebhookRepository::Finish(*db_, given_up, EventState::kGivenUp, 500, "x").ok());
  for (const std::string& id : {delivered, given_up, pending}) {
    WebhookAttempt a;
    a.event_id = id;
    a.attempted = NowMicros();
    ASSERT_TRUE(WebhookRepository::AddAttempt(*db_, account_, a).ok());
  }

  // Nothing ended before a cutoff in the past.
  EXPECT_EQ(*WebhookRepository::DeleteEndedBefore(*db_, NowMicros() - 60'000'000), 0);
  EXPECT_EQ(WebhookRepository::ListAttempts(*db_, account_, 10)->size(), 3u);

  EXPECT_EQ(*WebhookRepository::DeleteEndedBefore(*db_, NowMicros() + 1), 2);
  EXPECT_FALSE(WebhookRepository::GetEvent(*db_, delivered)->has_value());
  EXPECT_FALSE(WebhookRepository::GetEvent(*db_, given_up)->has_value());
  ASSERT_TRUE(WebhookRepository::GetEvent(*db_, pending)->has_value());
  auto attempts = *WebhookRepository::ListAttempts(*db_, account_, 10);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].event_id, pending);
}

TEST_F(WebhookTest, AttemptsBeyondTheKeptNumberAreDropped) {
  std::string id = AddEvent(NewId());
  const int total = WebhookRepository::kAttemptsKept + 5;
  ASSERT_TRUE(db_->Transact([&](storage::Database& tx) -> Status {
                   for (int i = 0; i < total; ++i) {
                     WebhookAttempt a;
                     a.event_id = id;
                     a.attempted = 1000 + i;
                     KINO_RETURN_IF_ERROR(WebhookRepository::AddAttempt(tx, account_, a));
                   }
                   return Status::Ok();
                 })
                  .ok());
  auto all = *WebhookRepository::ListAttempts(*db_, account_, total);
  ASSERT_EQ(all.size(), static_cast<size_t>(WebhookRepository::kAttemptsKept));
  EXPECT_EQ(all.front().attempted, 1000 + total - 1);
  EXPECT_EQ(all.back().attempted, 1000 + total - WebhookRepository::kAttemptsKept);
}

}  // namespace
}  // namespace kino::domain
