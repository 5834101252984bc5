// A function run on a thread of its own, once at start() and then again every `period` until
// stopped: the loop of the watches that poll something while a task runs (NodeWatch in
// source/cluster_source.h, ReplicationWatch in source/replication_health.h). stop() ends the wait
// between two runs at once, so a long period never delays a task's stop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace dts {

class PeriodicThread {
 public:
  // Runs once per period; returns false to end the loop (its thread exits by itself; stop()
  // still joins it).
  using Tick = std::function<bool()>;
  PeriodicThread(std::chrono::milliseconds period, Tick tick);
  // Stops (joins) the thread. An owner whose tick reads the owner's members declares its
  // PeriodicThread after them, or stops it in its own destructor.
  ~PeriodicThread();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Starts the thread, whose first tick runs at once. Does nothing while a thread started
  // earlier has not been stopped (even one whose tick ended the loop).
  void start();
  // Wakes the wait between two ticks and joins the thread (a tick in progress finishes first).
  // Idempotent; start() may follow. REQUIRES: not called from tick; start() and stop() are
  // called from one thread at a time (the owner's).
  void stop();

 private:
  void run();
  const std::chrono::milliseconds period_;
  const Tick tick_;
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dts
