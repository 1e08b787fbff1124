//! Lambda `peering-cleanup`: when a peering is deleted or rejected, removes the routes that
//! target it and the security-group rules peerwire made for it, on both sides, and nothing
//! else. All meaning lives in `peerwire::doors`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    peerwire::doors::serve(peerwire::doors::Door::Cleanup).await
}
