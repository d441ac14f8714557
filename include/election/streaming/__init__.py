"""The Spark Structured Streaming side: vote schema, pure transforms, run-time helpers of the job."""
