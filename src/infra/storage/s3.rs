//! S3 (or any S3-compatible service) through aws-sdk-s3. The client is built
//! from our own settings (no aws-config: no profile files, no STS).

use std::{path::Path, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation},
    presigning::PresigningConfig,
    primitives::ByteStream,
};
use tokio::io::AsyncWriteExt;

use super::{Delivery, Storage, checked};

/// `S3_*` settings.
#[derive(Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// `S3_ENDPOINT`: an S3-compatible service's address; unset: AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `S3_PATH_STYLE`: `endpoint/bucket/key` instead of `bucket.endpoint/key`.
    pub path_style: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct S3 {
    client: Client,
    bucket: String,
}

impl S3 {
    pub fn new(settings: &S3Settings) -> Self {
        let credentials = Credentials::new(
            settings.access_key_id.clone(),
            settings.secret_access_key.clone(),
            None,
            None,
            "weaverse-settings",
        );
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(settings.path_style)
            // Checksums only where S3 requires them: S3-compatible services
            // differ in the newer optional ones.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint.clone());
        }
        Self {
            client: Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
        }
    }

    /// Creates the bucket when it is missing (development and tests).
    pub async fn ensure_bucket(&self) -> anyhow::Result<()> {
        if self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        self.client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .with_context(|| format!("creating bucket {}", self.bucket))?;
        Ok(())
    }
}

#[async_trait]
impl Storage for S3 {
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> anyhow::Result<()> {
        let body = ByteStream::from_path(path)
            .await
            .with_context(|| format!("reading {}", path.display()))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(checked(key)?)
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .with_context(|| format!("S3 put {key}"))?;
        Ok(())
    }

    async fn put_bytes(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(checked(key)?)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .with_context(|| format!("S3 put {key}"))?;
        Ok(())
    }

    async fn get_bytes(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(checked(key)?)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.body.collect().await?.into_bytes().to_vec())),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(err) => Err(anyhow::Error::new(err).context(format!("S3 get {key}"))),
        }
    }

    async fn get_to_file(&self, key: &str, path: &Path) -> anyhow::Result<()> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(checked(key)?)
            .send()
            .await
            .with_context(|| format!("S3 get {key}"))?;
        let mut reader = out.body.into_async_read();
        let mut file = tokio::fs::File::create(path).await?;
        tokio::io::copy(&mut reader, &mut file).await?;
        file.flush().await?;
        Ok(())
    }

    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(checked(key)?)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            )),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => Err(anyhow::Error::new(err).context(format!("S3 head {key}"))),
        }
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(checked(key)?)
            .send()
            .await
            .with_context(|| format!("S3 delete {key}"))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.with_context(|| format!("S3 list {prefix}"))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        keys.sort();
        Ok(keys)
    }

    async fn deliver(&self, key: &str, ttl: Duration) -> anyhow::Result<Delivery> {
        let signed = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(checked(key)?)
            .presigned(PresigningConfig::expires_in(ttl)?)
            .await
            .with_context(|| format!("S3 presign {key}"))?;
        Ok(Delivery::Redirect(signed.uri().to_string()))
    }

    fn name(&self) -> &'static str {
        "s3"
    }
}
