// How the durable stores (SqliteJobStore, PostgresJobStore) write a job's
// fields as text and numbers, and read them back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/jobs/job.h"

namespace videogen::jobs {

// "queued", "running", "succeeded", "failed", "cancelled".
const char* StateName(JobState state);
// nullopt for any other text.
std::optional<JobState> ParseState(const std::string& name);

// Stage timings as "STAGE:MICROS,..." (STAGE: the pipeline::Stage number);
// malformed parts are skipped when read.
std::string EncodeTimings(const std::vector<StageTiming>& timings);
std::vector<StageTiming> DecodeTimings(const std::string& text);

// Progress of every stage as "STAGE:STEP:TOTAL:EXPERT:ELAPSED_US:ETA_US;...";
// seq is not kept. Malformed parts are skipped when read.
std::string EncodeProgress(const std::vector<JobProgress>& stages);
std::vector<JobProgress> DecodeProgress(const std::string& text);

// A spec's deadline (steady clock) as Unix milliseconds, and back.
std::optional<int64_t> DeadlineUnixMillis(const JobSpec& spec);
CancelToken::Clock::time_point SteadyDeadline(int64_t unix_ms);

}  // namespace videogen::jobs
