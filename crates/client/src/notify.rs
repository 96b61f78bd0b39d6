//! Silences, notification channels and the delivery log.

use flightdeck_model::*;
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `state`: `pending`, `active` or `expired`; `None`: all.
    pub async fn list_silences(&self, state: Option<&str>) -> Result<Page<SilenceView>> {
        self.get("api/v1/silences", &[("state", state)]).await
    }

    pub async fn create_silence(&self, body: &CreateSilence) -> Result<SilenceView> {
        self.post("api/v1/silences", body).await
    }

    /// Ends a silence now.
    pub async fn expire_silence(&self, id: Id) -> Result<SilenceView> {
        self.send(self.request(Method::DELETE, &format!("api/v1/silences/{id}"))?)
            .await
    }

    pub async fn list_channels(&self) -> Result<Page<NotificationChannel>> {
        self.get("api/v1/notification-channels", &()).await
    }

    pub async fn create_channel(&self, body: &ChannelRequest) -> Result<NotificationChannel> {
        self.post("api/v1/notification-channels", body).await
    }

    pub async fn replace_channel(
        &self,
        id: Id,
        body: &ChannelRequest,
    ) -> Result<NotificationChannel> {
        self.send(
            self.request(Method::PUT, &format!("api/v1/notification-channels/{id}"))?
                .json(body),
        )
        .await
    }

    pub async fn delete_channel(&self, id: Id) -> Result<()> {
        self.send_empty(self.request(
            Method::DELETE,
            &format!("api/v1/notification-channels/{id}"),
        )?)
        .await
    }

    /// Sends one test message through the channel now.
    pub async fn test_channel(&self, id: Id) -> Result<ChannelTestResult> {
        self.post(
            &format!("api/v1/notification-channels/{id}/test"),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn list_deliveries(&self, query: &DeliveryQuery) -> Result<Page<Delivery>> {
        self.get("api/v1/notifications/deliveries", query).await
    }
}
