// How both stores nest write transactions, and their read snapshots. The
// outermost level is a real transaction (the store opens and commits it); a
// nested level is a savepoint, so an exception undoes exactly the writes of
// the level it leaves. Inside an all-or-nothing transaction nested levels
// take no savepoint: a failure there, even one the caller catches, fails
// the whole transaction, which then writes nothing.
//
// The store supplies the SQL (its savepoint, release and rollback
// statements); this class keeps the depth, the all-or-nothing flags and
// whether a read snapshot is open.
#pragma once

#include <string>
#include <utility>

#include "sopir/error.h"
#include "sopir/messages/store.h"

namespace sopir {

class WriteNesting {
 public:
  // 0 outside any transaction of the store's.
  int depth() const { return depth_; }

  // Runs the outermost level: `body` opens the transaction and commits it
  // itself. The depth is 1 while it runs and 0 however it ends.
  template <typename Body>
  void outermost(Body&& body) {
    Level level(*this);
    std::forward<Body>(body)();
  }

  // Runs `body` inside an open transaction: between `savepoint()` and
  // `release()`, with `rollback_to()` (which must not throw) when `body`
  // throws; or, in all-or-nothing mode, with no savepoint at all.
  template <typename Body, typename Savepoint, typename Release, typename RollbackTo>
  void nested(Body&& body, Savepoint&& savepoint, Release&& release, RollbackTo&& rollback_to) {
    if (flat_) {
      Level level(*this);
      try {
        body();
      } catch (...) {
        failed_ = true;
        throw;
      }
      return;
    }
    savepoint();
    {
      Level level(*this);
      try {
        body();
      } catch (...) {
        rollback_to();
        throw;
      }
    }
    release();
  }

  // Runs `body` against one snapshot, for reading only: at the outermost
  // level between `begin()` and `commit()`, with `rollback()` (which must
  // not throw) when `body` throws; inside a transaction (the store's, or
  // one `in_transaction` says is open), `body` alone: that transaction is
  // the snapshot. While the snapshot's own level runs, reading() is true.
  template <typename Body, typename Begin, typename Commit, typename Rollback>
  void read_snapshot(bool in_transaction, Body&& body, Begin&& begin, Commit&& commit, Rollback&& rollback) {
    if (in_transaction || depth_ > 0) {
      body();
      return;
    }
    Level level(*this);
    Reading reading(*this);
    begin();
    try {
      body();
    } catch (...) {
      rollback();
      throw;
    }
    commit();
  }

  // Inside read_snapshot()'s own transaction: a write there is a mistake of
  // the caller's (the store refuses it; on SQLite it would try to turn the
  // read into a write and could fail busy).
  bool reading() const { return reading_; }

  // Runs `body` in all-or-nothing mode; call it inside the outermost
  // level. When a nested write failed and `body` went on regardless, throws
  // kStorage naming `database`, so the caller's transaction rolls back.
  template <typename Body>
  void all_or_nothing(Body&& body, const std::string& database) {
    const bool outer_flat = flat_, outer_failed = failed_;
    flat_ = true;
    failed_ = false;
    try {
      body();
    } catch (...) {
      flat_ = outer_flat;
      failed_ = outer_failed;
      throw;
    }
    const bool failed = failed_;
    flat_ = outer_flat;
    failed_ = outer_failed;
    if (failed)
      throw storage_error(tr(msg::store_nested_write_failed, {database}));
  }

 private:
  struct Level {
    explicit Level(WriteNesting& n) : n(n) { ++n.depth_; }
    ~Level() { --n.depth_; }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;
    WriteNesting& n;
  };

  struct Reading {
    explicit Reading(WriteNesting& n) : n(n) { n.reading_ = true; }
    ~Reading() { n.reading_ = false; }
    Reading(const Reading&) = delete;
    Reading& operator=(const Reading&) = delete;
    WriteNesting& n;
  };

  int depth_ = 0;
  bool reading_ = false;  // in read_snapshot()'s own transaction
  bool flat_ = false;    // nested levels take no savepoint
  bool failed_ = false;  // a nested level failed while flat_
};

}  // namespace sopir
