//! Keeps peerwire's EC2 calls inside the account's API request-rate budget.
//!
//! EC2 throttles calls per account and region with token buckets, one for mutating actions
//! (by default a burst of 50, refilled at 5 per second) and one for non-mutating ones (a burst
//! of 100, refilled at 20 per second), shared by everything in the account. A hub wiring
//! hundreds of peerings would otherwise fire its calls at once and be answered with
//! `RequestLimitExceeded`. Each member client carries both buckets, so peerwire never sends
//! faster than the budget.

use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::calls::identify;
pub use crate::config::WriteBudget;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// One account-and-region bucket, shared by every client of that account and region.
#[derive(Debug, Clone)]
pub struct WriteLimiter {
    budget: WriteBudget,
    bucket: Arc<Mutex<Bucket>>,
    /// The bucket of non-mutating calls, when they are paced too.
    reads: Option<Box<WriteLimiter>>,
}

impl WriteLimiter {
    pub fn new(budget: WriteBudget) -> Self {
        Self {
            budget,
            bucket: Arc::new(Mutex::new(Bucket {
                tokens: f64::from(budget.burst),
                refilled: Instant::now(),
            })),
            reads: None,
        }
    }

    /// Paces non-mutating calls with their own `budget` too.
    pub fn with_reads(mut self, budget: WriteBudget) -> Self {
        self.reads = Some(Box::new(Self::new(budget)));
        self
    }

    /// Waits until a write may go out. Waiters queue in order (the lock is fair), so the
    /// sustained rate never exceeds `per_second` after the burst.
    pub async fn acquire(&self) {
        let mut bucket = self.bucket.lock().await;
        loop {
            let now = Instant::now();
            let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * self.budget.per_second)
                .min(f64::from(self.budget.burst));
            bucket.refilled = now;
            if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
                return;
            }
            let wait = (1.0 - bucket.tokens) / self.budget.per_second.max(f64::MIN_POSITIVE);
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }

    /// Wraps `inner` so that every write request waits for a token first.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(LimitedClient {
            inner,
            limiter: self.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedClient {
    inner: SharedHttpClient,
    limiter: WriteLimiter,
}

impl HttpClient for LimitedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limiter: WriteLimiter,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let limiter = if identify(&request).is_write() {
            self.limiter.clone()
        } else {
            match &self.limiter.reads {
                Some(reads) => (**reads).clone(),
                None => return self.inner.call(request),
            }
        };
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            limiter.acquire().await;
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_the_sustained_rate() {
        let limiter = WriteLimiter::new(WriteBudget::default());
        let start = Instant::now();
        for _ in 0..50 {
            limiter.acquire().await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the burst goes out at once"
        );
        for _ in 0..25 {
            limiter.acquire().await;
        }
        // 25 more tokens at 5/s take 5 s.
        let elapsed = start.elapsed().as_secs_f64();
        assert!((4.99..5.01).contains(&elapsed), "{elapsed}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bucket_refills_to_the_burst_and_no_more() {
        let limiter = WriteLimiter::new(WriteBudget {
            burst: 3,
            per_second: 1.0,
        });
        for _ in 0..3 {
            limiter.acquire().await;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }
}
