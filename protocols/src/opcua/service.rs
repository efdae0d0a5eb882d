//! OPC UA services (OPC 10000-4) in their binary encoding (OPC 10000-6 §5.2):
//! the encoding ids of every service message, and decoders of the messages
//! that tell who talks to whom and how securely — OpenSecureChannel,
//! GetEndpoints, FindServers, CreateSession, ActivateSession and ServiceFault.
//! Other services keep their request or response header.
//!
//! A service message (the reassembled body after the sequence header) is the
//! binary encoding id of its type as a NodeId, then the encoded structure.
//!
//! Panic contract: no function here panics, whatever the input.

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::encoding::{
    ExtensionBody, LocalizedText, NodeId, RequestHeader, ResponseHeader, StatusCode,
    read_array_len, read_datetime, read_extension_object, read_localized_text, read_node_id,
    read_request_header, read_response_header, read_string, read_string_array,
    skip_diagnostic_infos,
};

wire_enum! {
    /// Binary encoding ids (DefaultBinary) of the Part 4 service messages.
    ServiceId(u32) {
        /// ServiceFault: any request may be answered with it.
        SERVICE_FAULT = 397 => "service_fault";
        /// FindServersRequest.
        FIND_SERVERS_REQUEST = 422 => "find_servers_request";
        /// FindServersResponse.
        FIND_SERVERS_RESPONSE = 425 => "find_servers_response";
        /// FindServersOnNetworkRequest.
        FIND_SERVERS_ON_NETWORK_REQUEST = 12208 => "find_servers_on_network_request";
        /// FindServersOnNetworkResponse.
        FIND_SERVERS_ON_NETWORK_RESPONSE = 12209 => "find_servers_on_network_response";
        /// GetEndpointsRequest.
        GET_ENDPOINTS_REQUEST = 428 => "get_endpoints_request";
        /// GetEndpointsResponse.
        GET_ENDPOINTS_RESPONSE = 431 => "get_endpoints_response";
        /// RegisterServerRequest.
        REGISTER_SERVER_REQUEST = 437 => "register_server_request";
        /// RegisterServerResponse.
        REGISTER_SERVER_RESPONSE = 440 => "register_server_response";
        /// RegisterServer2Request.
        REGISTER_SERVER2_REQUEST = 12211 => "register_server2_request";
        /// RegisterServer2Response.
        REGISTER_SERVER2_RESPONSE = 12212 => "register_server2_response";
        /// OpenSecureChannelRequest.
        OPEN_SECURE_CHANNEL_REQUEST = 446 => "open_secure_channel_request";
        /// OpenSecureChannelResponse.
        OPEN_SECURE_CHANNEL_RESPONSE = 449 => "open_secure_channel_response";
        /// CloseSecureChannelRequest.
        CLOSE_SECURE_CHANNEL_REQUEST = 452 => "close_secure_channel_request";
        /// CloseSecureChannelResponse.
        CLOSE_SECURE_CHANNEL_RESPONSE = 455 => "close_secure_channel_response";
        /// CreateSessionRequest.
        CREATE_SESSION_REQUEST = 461 => "create_session_request";
        /// CreateSessionResponse.
        CREATE_SESSION_RESPONSE = 464 => "create_session_response";
        /// ActivateSessionRequest.
        ACTIVATE_SESSION_REQUEST = 467 => "activate_session_request";
        /// ActivateSessionResponse.
        ACTIVATE_SESSION_RESPONSE = 470 => "activate_session_response";
        /// CloseSessionRequest.
        CLOSE_SESSION_REQUEST = 473 => "close_session_request";
        /// CloseSessionResponse.
        CLOSE_SESSION_RESPONSE = 476 => "close_session_response";
        /// CancelRequest.
        CANCEL_REQUEST = 479 => "cancel_request";
        /// CancelResponse.
        CANCEL_RESPONSE = 482 => "cancel_response";
        /// AddNodesRequest.
        ADD_NODES_REQUEST = 488 => "add_nodes_request";
        /// AddNodesResponse.
        ADD_NODES_RESPONSE = 491 => "add_nodes_response";
        /// AddReferencesRequest.
        ADD_REFERENCES_REQUEST = 494 => "add_references_request";
        /// AddReferencesResponse.
        ADD_REFERENCES_RESPONSE = 497 => "add_references_response";
        /// DeleteNodesRequest.
        DELETE_NODES_REQUEST = 500 => "delete_nodes_request";
        /// DeleteNodesResponse.
        DELETE_NODES_RESPONSE = 503 => "delete_nodes_response";
        /// DeleteReferencesRequest.
        DELETE_REFERENCES_REQUEST = 506 => "delete_references_request";
        /// DeleteReferencesResponse.
        DELETE_REFERENCES_RESPONSE = 509 => "delete_references_response";
        /// BrowseRequest.
        BROWSE_REQUEST = 527 => "browse_request";
        /// BrowseResponse.
        BROWSE_RESPONSE = 530 => "browse_response";
        /// BrowseNextRequest.
        BROWSE_NEXT_REQUEST = 533 => "browse_next_request";
        /// BrowseNextResponse.
        BROWSE_NEXT_RESPONSE = 536 => "browse_next_response";
        /// TranslateBrowsePathsToNodeIdsRequest.
        TRANSLATE_BROWSE_PATHS_TO_NODE_IDS_REQUEST = 554 => "translate_browse_paths_to_node_ids_request";
        /// TranslateBrowsePathsToNodeIdsResponse.
        TRANSLATE_BROWSE_PATHS_TO_NODE_IDS_RESPONSE = 557 => "translate_browse_paths_to_node_ids_response";
        /// RegisterNodesRequest.
        REGISTER_NODES_REQUEST = 560 => "register_nodes_request";
        /// RegisterNodesResponse.
        REGISTER_NODES_RESPONSE = 563 => "register_nodes_response";
        /// UnregisterNodesRequest.
        UNREGISTER_NODES_REQUEST = 566 => "unregister_nodes_request";
        /// UnregisterNodesResponse.
        UNREGISTER_NODES_RESPONSE = 569 => "unregister_nodes_response";
        /// QueryFirstRequest.
        QUERY_FIRST_REQUEST = 615 => "query_first_request";
        /// QueryFirstResponse.
        QUERY_FIRST_RESPONSE = 618 => "query_first_response";
        /// QueryNextRequest.
        QUERY_NEXT_REQUEST = 621 => "query_next_request";
        /// QueryNextResponse.
        QUERY_NEXT_RESPONSE = 624 => "query_next_response";
        /// ReadRequest.
        READ_REQUEST = 631 => "read_request";
        /// ReadResponse.
        READ_RESPONSE = 634 => "read_response";
        /// HistoryReadRequest.
        HISTORY_READ_REQUEST = 664 => "history_read_request";
        /// HistoryReadResponse.
        HISTORY_READ_RESPONSE = 667 => "history_read_response";
        /// WriteRequest.
        WRITE_REQUEST = 673 => "write_request";
        /// WriteResponse.
        WRITE_RESPONSE = 676 => "write_response";
        /// HistoryUpdateRequest.
        HISTORY_UPDATE_REQUEST = 700 => "history_update_request";
        /// HistoryUpdateResponse.
        HISTORY_UPDATE_RESPONSE = 703 => "history_update_response";
        /// CallRequest.
        CALL_REQUEST = 712 => "call_request";
        /// CallResponse.
        CALL_RESPONSE = 715 => "call_response";
        /// CreateMonitoredItemsRequest.
        CREATE_MONITORED_ITEMS_REQUEST = 751 => "create_monitored_items_request";
        /// CreateMonitoredItemsResponse.
        CREATE_MONITORED_ITEMS_RESPONSE = 754 => "create_monitored_items_response";
        /// ModifyMonitoredItemsRequest.
        MODIFY_MONITORED_ITEMS_REQUEST = 763 => "modify_monitored_items_request";
        /// ModifyMonitoredItemsResponse.
        MODIFY_MONITORED_ITEMS_RESPONSE = 766 => "modify_monitored_items_response";
        /// SetMonitoringModeRequest.
        SET_MONITORING_MODE_REQUEST = 769 => "set_monitoring_mode_request";
        /// SetMonitoringModeResponse.
        SET_MONITORING_MODE_RESPONSE = 772 => "set_monitoring_mode_response";
        /// SetTriggeringRequest.
        SET_TRIGGERING_REQUEST = 775 => "set_triggering_request";
        /// SetTriggeringResponse.
        SET_TRIGGERING_RESPONSE = 778 => "set_triggering_response";
        /// DeleteMonitoredItemsRequest.
        DELETE_MONITORED_ITEMS_REQUEST = 781 => "delete_monitored_items_request";
        /// DeleteMonitoredItemsResponse.
        DELETE_MONITORED_ITEMS_RESPONSE = 784 => "delete_monitored_items_response";
        /// CreateSubscriptionRequest.
        CREATE_SUBSCRIPTION_REQUEST = 787 => "create_subscription_request";
        /// CreateSubscriptionResponse.
        CREATE_SUBSCRIPTION_RESPONSE = 790 => "create_subscription_response";
        /// ModifySubscriptionRequest.
        MODIFY_SUBSCRIPTION_REQUEST = 793 => "modify_subscription_request";
        /// ModifySubscriptionResponse.
        MODIFY_SUBSCRIPTION_RESPONSE = 796 => "modify_subscription_response";
        /// SetPublishingModeRequest.
        SET_PUBLISHING_MODE_REQUEST = 799 => "set_publishing_mode_request";
        /// SetPublishingModeResponse.
        SET_PUBLISHING_MODE_RESPONSE = 802 => "set_publishing_mode_response";
        /// PublishRequest.
        PUBLISH_REQUEST = 826 => "publish_request";
        /// PublishResponse.
        PUBLISH_RESPONSE = 829 => "publish_response";
        /// RepublishRequest.
        REPUBLISH_REQUEST = 832 => "republish_request";
        /// RepublishResponse.
        REPUBLISH_RESPONSE = 835 => "republish_response";
        /// TransferSubscriptionsRequest.
        TRANSFER_SUBSCRIPTIONS_REQUEST = 841 => "transfer_subscriptions_request";
        /// TransferSubscriptionsResponse.
        TRANSFER_SUBSCRIPTIONS_RESPONSE = 844 => "transfer_subscriptions_response";
        /// DeleteSubscriptionsRequest.
        DELETE_SUBSCRIPTIONS_REQUEST = 847 => "delete_subscriptions_request";
        /// DeleteSubscriptionsResponse.
        DELETE_SUBSCRIPTIONS_RESPONSE = 850 => "delete_subscriptions_response";
    }
}

/// Every service: its request id, its response id and its Part 4 name.
const SERVICES: &[(ServiceId, ServiceId, &str)] = &[
    (
        ServiceId::FIND_SERVERS_REQUEST,
        ServiceId::FIND_SERVERS_RESPONSE,
        "FindServers",
    ),
    (
        ServiceId::FIND_SERVERS_ON_NETWORK_REQUEST,
        ServiceId::FIND_SERVERS_ON_NETWORK_RESPONSE,
        "FindServersOnNetwork",
    ),
    (
        ServiceId::GET_ENDPOINTS_REQUEST,
        ServiceId::GET_ENDPOINTS_RESPONSE,
        "GetEndpoints",
    ),
    (
        ServiceId::REGISTER_SERVER_REQUEST,
        ServiceId::REGISTER_SERVER_RESPONSE,
        "RegisterServer",
    ),
    (
        ServiceId::REGISTER_SERVER2_REQUEST,
        ServiceId::REGISTER_SERVER2_RESPONSE,
        "RegisterServer2",
    ),
    (
        ServiceId::OPEN_SECURE_CHANNEL_REQUEST,
        ServiceId::OPEN_SECURE_CHANNEL_RESPONSE,
        "OpenSecureChannel",
    ),
    (
        ServiceId::CLOSE_SECURE_CHANNEL_REQUEST,
        ServiceId::CLOSE_SECURE_CHANNEL_RESPONSE,
        "CloseSecureChannel",
    ),
    (
        ServiceId::CREATE_SESSION_REQUEST,
        ServiceId::CREATE_SESSION_RESPONSE,
        "CreateSession",
    ),
    (
        ServiceId::ACTIVATE_SESSION_REQUEST,
        ServiceId::ACTIVATE_SESSION_RESPONSE,
        "ActivateSession",
    ),
    (
        ServiceId::CLOSE_SESSION_REQUEST,
        ServiceId::CLOSE_SESSION_RESPONSE,
        "CloseSession",
    ),
    (
        ServiceId::CANCEL_REQUEST,
        ServiceId::CANCEL_RESPONSE,
        "Cancel",
    ),
    (
        ServiceId::ADD_NODES_REQUEST,
        ServiceId::ADD_NODES_RESPONSE,
        "AddNodes",
    ),
    (
        ServiceId::ADD_REFERENCES_REQUEST,
        ServiceId::ADD_REFERENCES_RESPONSE,
        "AddReferences",
    ),
    (
        ServiceId::DELETE_NODES_REQUEST,
        ServiceId::DELETE_NODES_RESPONSE,
        "DeleteNodes",
    ),
    (
        ServiceId::DELETE_REFERENCES_REQUEST,
        ServiceId::DELETE_REFERENCES_RESPONSE,
        "DeleteReferences",
    ),
    (
        ServiceId::BROWSE_REQUEST,
        ServiceId::BROWSE_RESPONSE,
        "Browse",
    ),
    (
        ServiceId::BROWSE_NEXT_REQUEST,
        ServiceId::BROWSE_NEXT_RESPONSE,
        "BrowseNext",
    ),
    (
        ServiceId::TRANSLATE_BROWSE_PATHS_TO_NODE_IDS_REQUEST,
        ServiceId::TRANSLATE_BROWSE_PATHS_TO_NODE_IDS_RESPONSE,
        "TranslateBrowsePathsToNodeIds",
    ),
    (
        ServiceId::REGISTER_NODES_REQUEST,
        ServiceId::REGISTER_NODES_RESPONSE,
        "RegisterNodes",
    ),
    (
        ServiceId::UNREGISTER_NODES_REQUEST,
        ServiceId::UNREGISTER_NODES_RESPONSE,
        "UnregisterNodes",
    ),
    (
        ServiceId::QUERY_FIRST_REQUEST,
        ServiceId::QUERY_FIRST_RESPONSE,
        "QueryFirst",
    ),
    (
        ServiceId::QUERY_NEXT_REQUEST,
        ServiceId::QUERY_NEXT_RESPONSE,
        "QueryNext",
    ),
    (ServiceId::READ_REQUEST, ServiceId::READ_RESPONSE, "Read"),
    (
        ServiceId::HISTORY_READ_REQUEST,
        ServiceId::HISTORY_READ_RESPONSE,
        "HistoryRead",
    ),
    (ServiceId::WRITE_REQUEST, ServiceId::WRITE_RESPONSE, "Write"),
    (
        ServiceId::HISTORY_UPDATE_REQUEST,
        ServiceId::HISTORY_UPDATE_RESPONSE,
        "HistoryUpdate",
    ),
    (ServiceId::CALL_REQUEST, ServiceId::CALL_RESPONSE, "Call"),
    (
        ServiceId::CREATE_MONITORED_ITEMS_REQUEST,
        ServiceId::CREATE_MONITORED_ITEMS_RESPONSE,
        "CreateMonitoredItems",
    ),
    (
        ServiceId::MODIFY_MONITORED_ITEMS_REQUEST,
        ServiceId::MODIFY_MONITORED_ITEMS_RESPONSE,
        "ModifyMonitoredItems",
    ),
    (
        ServiceId::SET_MONITORING_MODE_REQUEST,
        ServiceId::SET_MONITORING_MODE_RESPONSE,
        "SetMonitoringMode",
    ),
    (
        ServiceId::SET_TRIGGERING_REQUEST,
        ServiceId::SET_TRIGGERING_RESPONSE,
        "SetTriggering",
    ),
    (
        ServiceId::DELETE_MONITORED_ITEMS_REQUEST,
        ServiceId::DELETE_MONITORED_ITEMS_RESPONSE,
        "DeleteMonitoredItems",
    ),
    (
        ServiceId::CREATE_SUBSCRIPTION_REQUEST,
        ServiceId::CREATE_SUBSCRIPTION_RESPONSE,
        "CreateSubscription",
    ),
    (
        ServiceId::MODIFY_SUBSCRIPTION_REQUEST,
        ServiceId::MODIFY_SUBSCRIPTION_RESPONSE,
        "ModifySubscription",
    ),
    (
        ServiceId::SET_PUBLISHING_MODE_REQUEST,
        ServiceId::SET_PUBLISHING_MODE_RESPONSE,
        "SetPublishingMode",
    ),
    (
        ServiceId::PUBLISH_REQUEST,
        ServiceId::PUBLISH_RESPONSE,
        "Publish",
    ),
    (
        ServiceId::REPUBLISH_REQUEST,
        ServiceId::REPUBLISH_RESPONSE,
        "Republish",
    ),
    (
        ServiceId::TRANSFER_SUBSCRIPTIONS_REQUEST,
        ServiceId::TRANSFER_SUBSCRIPTIONS_RESPONSE,
        "TransferSubscriptions",
    ),
    (
        ServiceId::DELETE_SUBSCRIPTIONS_REQUEST,
        ServiceId::DELETE_SUBSCRIPTIONS_RESPONSE,
        "DeleteSubscriptions",
    ),
];

impl ServiceId {
    /// The request message of a service (ServiceFault is neither request nor response).
    pub fn is_request(self) -> bool {
        SERVICES.iter().any(|&(request, _, _)| request == self)
    }

    /// The response message of a service.
    pub fn is_response(self) -> bool {
        SERVICES.iter().any(|&(_, response, _)| response == self)
    }

    /// The response id of a request id; `None` for anything else.
    pub fn response(self) -> Option<ServiceId> {
        SERVICES
            .iter()
            .find(|&&(request, _, _)| request == self)
            .map(|&(_, response, _)| response)
    }

    /// The Part 4 name of the service of a request or response id, e.g. `"GetEndpoints"`.
    pub fn service(self) -> Option<&'static str> {
        SERVICES
            .iter()
            .find(|&&(request, response, _)| request == self || response == self)
            .map(|&(_, _, name)| name)
    }
}

wire_enum! {
    /// How a secure channel or endpoint protects messages.
    MessageSecurityMode(u32) {
        /// Invalid (the default value, never negotiated).
        INVALID = 0 => "invalid";
        /// Neither signed nor encrypted.
        NONE = 1 => "none";
        /// Signed only.
        SIGN = 2 => "sign";
        /// Signed and encrypted.
        SIGN_AND_ENCRYPT = 3 => "sign_and_encrypt";
    }
}

wire_enum! {
    /// What an application is.
    ApplicationType(u32) {
        /// A server.
        SERVER = 0 => "server";
        /// A client.
        CLIENT = 1 => "client";
        /// Both.
        CLIENT_AND_SERVER = 2 => "client_and_server";
        /// A discovery server.
        DISCOVERY_SERVER = 3 => "discovery_server";
    }
}

wire_enum! {
    /// The kind of user identity an endpoint accepts.
    UserTokenType(u32) {
        /// No user.
        ANONYMOUS = 0 => "anonymous";
        /// User name and password.
        USER_NAME = 1 => "user_name";
        /// X.509 user certificate.
        CERTIFICATE = 2 => "certificate";
        /// A token from an external issuer (Kerberos, JWT…).
        ISSUED_TOKEN = 3 => "issued_token";
    }
}

wire_enum! {
    /// Whether OpenSecureChannel issues a new token or renews one.
    RequestType(u32) {
        /// A new channel.
        ISSUE = 0 => "issue";
        /// A new token for an existing channel.
        RENEW = 1 => "renew";
    }
}

/// Encoding ids of the user identity tokens (DefaultBinary).
mod token_id {
    pub(super) const ANONYMOUS: u32 = 321;
    pub(super) const USER_NAME: u32 = 324;
    pub(super) const X509: u32 = 327;
    pub(super) const ISSUED: u32 = 940;
}

/// Smallest encodings, so array counts are checked against the bytes left:
/// every String is at least its 4-byte length, a LocalizedText its mask byte.
mod min_size {
    pub(super) const APPLICATION_DESCRIPTION: usize = 4 + 4 + 1 + 4 + 4 + 4 + 4;
    pub(super) const USER_TOKEN_POLICY: usize = 4 + 4 + 4 + 4 + 4;
    pub(super) const ENDPOINT_DESCRIPTION: usize =
        4 + APPLICATION_DESCRIPTION + 4 + 4 + 4 + 4 + 4 + 1;
    pub(super) const SIGNED_SOFTWARE_CERTIFICATE: usize = 8;
    pub(super) const STATUS_CODE: usize = 4;
}

/// A service message: the encoding id, then the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceMessage<'a> {
    /// The binary encoding id of the message type.
    pub type_id: NodeId<'a>,
    /// The encoded structure.
    pub body: &'a [u8],
}

/// Splits a service message (the reassembled body after the sequence
/// header) into its encoding id and body.
pub fn split_service(message: &[u8]) -> Result<ServiceMessage<'_>, Error> {
    let mut r = Reader::new(message, Layer::OpcUaService);
    let type_id = read_node_id(&mut r)?;
    Ok(ServiceMessage {
        type_id,
        body: r.take_rest(),
    })
}

impl<'a> ServiceMessage<'a> {
    /// The ns0 numeric type id as a [`ServiceId`] (named or not); `None` for
    /// any other NodeId.
    pub fn service_id(&self) -> Option<ServiceId> {
        self.type_id.numeric().map(ServiceId)
    }

    /// A cursor over the body.
    fn reader(&self) -> Reader<'a> {
        Reader::new(self.body, Layer::OpcUaService)
    }
}

/// Describes an application (OPC 10000-4 §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationDescription<'a> {
    /// Globally unique application URI.
    pub application_uri: Option<&'a [u8]>,
    /// Product URI of the vendor.
    pub product_uri: Option<&'a [u8]>,
    /// Display name.
    pub application_name: LocalizedText<'a>,
    /// Server, client, both or discovery server.
    pub application_type: ApplicationType,
    /// Gateway server URI, when behind one.
    pub gateway_server_uri: Option<&'a [u8]>,
    /// Discovery profile URI.
    pub discovery_profile_uri: Option<&'a [u8]>,
    /// Discovery endpoint URLs.
    pub discovery_urls: Vec<Option<&'a [u8]>>,
}

fn read_application_description<'a>(
    r: &mut Reader<'a>,
) -> Result<ApplicationDescription<'a>, Error> {
    Ok(ApplicationDescription {
        application_uri: read_string(r)?,
        product_uri: read_string(r)?,
        application_name: read_localized_text(r)?,
        application_type: ApplicationType(r.le_u32()?),
        gateway_server_uri: read_string(r)?,
        discovery_profile_uri: read_string(r)?,
        discovery_urls: read_string_array(r)?,
    })
}

/// A user identity token type an endpoint accepts (OPC 10000-4 §7.42).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserTokenPolicy<'a> {
    /// Server-chosen id the client names in ActivateSession.
    pub policy_id: Option<&'a [u8]>,
    /// The token type.
    pub token_type: UserTokenType,
    /// For issued tokens: the token type URI.
    pub issued_token_type: Option<&'a [u8]>,
    /// For issued tokens: the issuer's endpoint.
    pub issuer_endpoint_url: Option<&'a [u8]>,
    /// Policy protecting the token; null means that of the endpoint.
    pub security_policy_uri: Option<&'a [u8]>,
}

fn read_user_token_policy<'a>(r: &mut Reader<'a>) -> Result<UserTokenPolicy<'a>, Error> {
    Ok(UserTokenPolicy {
        policy_id: read_string(r)?,
        token_type: UserTokenType(r.le_u32()?),
        issued_token_type: read_string(r)?,
        issuer_endpoint_url: read_string(r)?,
        security_policy_uri: read_string(r)?,
    })
}

/// An endpoint of a server (OPC 10000-4 §7.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointDescription<'a> {
    /// The endpoint URL.
    pub endpoint_url: Option<&'a [u8]>,
    /// The server offering it.
    pub server: ApplicationDescription<'a>,
    /// The server's DER certificate (chain).
    pub server_certificate: Option<&'a [u8]>,
    /// Message security mode.
    pub security_mode: MessageSecurityMode,
    /// Security policy URI.
    pub security_policy_uri: Option<&'a [u8]>,
    /// The user identity tokens accepted.
    pub user_identity_tokens: Vec<UserTokenPolicy<'a>>,
    /// Transport profile URI.
    pub transport_profile_uri: Option<&'a [u8]>,
    /// Relative security level (higher is more secure).
    pub security_level: u8,
}

fn read_endpoint_description<'a>(r: &mut Reader<'a>) -> Result<EndpointDescription<'a>, Error> {
    let endpoint_url = read_string(r)?;
    let server = read_application_description(r)?;
    let server_certificate = read_string(r)?;
    let security_mode = MessageSecurityMode(r.le_u32()?);
    let security_policy_uri = read_string(r)?;
    let count = read_array_len(r, min_size::USER_TOKEN_POLICY)?;
    let user_identity_tokens = (0..count)
        .map(|_| read_user_token_policy(r))
        .collect::<Result<_, _>>()?;
    Ok(EndpointDescription {
        endpoint_url,
        server,
        server_certificate,
        security_mode,
        security_policy_uri,
        user_identity_tokens,
        transport_profile_uri: read_string(r)?,
        security_level: r.u8()?,
    })
}

fn read_endpoints<'a>(r: &mut Reader<'a>) -> Result<Vec<EndpointDescription<'a>>, Error> {
    let count = read_array_len(r, min_size::ENDPOINT_DESCRIPTION)?;
    (0..count).map(|_| read_endpoint_description(r)).collect()
}

/// Skips a SignatureData, keeping its algorithm URI.
fn read_signature_algorithm<'a>(r: &mut Reader<'a>) -> Result<Option<&'a [u8]>, Error> {
    let algorithm = read_string(r)?;
    read_string(r)?; // signature
    Ok(algorithm)
}

/// Skips an array of SignedSoftwareCertificate (certificate and signature ByteStrings).
fn skip_software_certificates(r: &mut Reader<'_>) -> Result<(), Error> {
    let count = read_array_len(r, min_size::SIGNED_SOFTWARE_CERTIFICATE)?;
    for _ in 0..count {
        read_string(r)?;
        read_string(r)?;
    }
    Ok(())
}

/// OpenSecureChannelRequest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenSecureChannelRequest<'a> {
    /// Request header.
    pub header: RequestHeader<'a>,
    /// UA TCP protocol version of the client.
    pub client_protocol_version: u32,
    /// Issue or renew.
    pub request_type: RequestType,
    /// Requested security mode.
    pub security_mode: MessageSecurityMode,
    /// Client nonce (empty or null with policy None).
    pub client_nonce: Option<&'a [u8]>,
    /// Requested token lifetime in milliseconds.
    pub requested_lifetime: u32,
}

/// OpenSecureChannelResponse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenSecureChannelResponse<'a> {
    /// Response header.
    pub header: ResponseHeader,
    /// UA TCP protocol version of the server.
    pub server_protocol_version: u32,
    /// The secure channel id assigned.
    pub channel_id: u32,
    /// The security token id.
    pub token_id: u32,
    /// When the token was created (raw DateTime).
    pub created_at: i64,
    /// Granted token lifetime in milliseconds.
    pub revised_lifetime: u32,
    /// Server nonce.
    pub server_nonce: Option<&'a [u8]>,
}

/// GetEndpointsRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetEndpointsRequest<'a> {
    /// Request header.
    pub header: RequestHeader<'a>,
    /// The URL the client used.
    pub endpoint_url: Option<&'a [u8]>,
    /// Preferred locales.
    pub locale_ids: Vec<Option<&'a [u8]>>,
    /// Transport profile filter.
    pub profile_uris: Vec<Option<&'a [u8]>>,
}

/// GetEndpointsResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetEndpointsResponse<'a> {
    /// Response header.
    pub header: ResponseHeader,
    /// The server's endpoints.
    pub endpoints: Vec<EndpointDescription<'a>>,
}

/// FindServersRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindServersRequest<'a> {
    /// Request header.
    pub header: RequestHeader<'a>,
    /// The URL the client used.
    pub endpoint_url: Option<&'a [u8]>,
    /// Preferred locales.
    pub locale_ids: Vec<Option<&'a [u8]>>,
    /// Server URI filter.
    pub server_uris: Vec<Option<&'a [u8]>>,
}

/// FindServersResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindServersResponse<'a> {
    /// Response header.
    pub header: ResponseHeader,
    /// The servers known.
    pub servers: Vec<ApplicationDescription<'a>>,
}

/// CreateSessionRequest.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateSessionRequest<'a> {
    /// Request header.
    pub header: RequestHeader<'a>,
    /// The client application.
    pub client_description: ApplicationDescription<'a>,
    /// The server URI the client expects.
    pub server_uri: Option<&'a [u8]>,
    /// The URL the client used.
    pub endpoint_url: Option<&'a [u8]>,
    /// Human-readable session name.
    pub session_name: Option<&'a [u8]>,
    /// Client nonce.
    pub client_nonce: Option<&'a [u8]>,
    /// The client's DER certificate (chain).
    pub client_certificate: Option<&'a [u8]>,
    /// Requested session timeout in milliseconds.
    pub requested_session_timeout: f64,
    /// Largest response the client accepts (0 = no limit).
    pub max_response_message_size: u32,
}

/// CreateSessionResponse (serverSoftwareCertificates are skipped).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateSessionResponse<'a> {
    /// Response header.
    pub header: ResponseHeader,
    /// The public session id.
    pub session_id: NodeId<'a>,
    /// The secret token later requests carry.
    pub authentication_token: NodeId<'a>,
    /// Granted session timeout in milliseconds.
    pub revised_session_timeout: f64,
    /// Server nonce.
    pub server_nonce: Option<&'a [u8]>,
    /// The server's DER certificate (chain).
    pub server_certificate: Option<&'a [u8]>,
    /// The server's endpoints, for the client to check against GetEndpoints.
    pub server_endpoints: Vec<EndpointDescription<'a>>,
    /// Algorithm of the server's signature over the client certificate and nonce.
    pub server_signature_algorithm: Option<&'a [u8]>,
    /// Largest request the server accepts (0 = no limit).
    pub max_request_message_size: u32,
}

/// The user identity token of ActivateSession. Never holds a password or token: only that one was sent, its length, and how it was protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityToken<'a> {
    /// A null extension object.
    Absent,
    /// AnonymousIdentityToken (type id 321).
    Anonymous {
        /// The server's policy id.
        policy_id: Option<&'a [u8]>,
    },
    /// UserNameIdentityToken (type id 324).
    UserName {
        /// The server's policy id.
        policy_id: Option<&'a [u8]>,
        /// The user name, as sent.
        user_name: Option<&'a [u8]>,
        /// Length of the (possibly encrypted) password; the bytes are not kept.
        password_len: usize,
        /// How the password was encrypted (null = plain text, or protected by the channel).
        encryption_algorithm: Option<&'a [u8]>,
    },
    /// X509IdentityToken (type id 327).
    X509 {
        /// The server's policy id.
        policy_id: Option<&'a [u8]>,
        /// The user's DER certificate.
        certificate: Option<&'a [u8]>,
    },
    /// IssuedIdentityToken (type id 940).
    Issued {
        /// The server's policy id.
        policy_id: Option<&'a [u8]>,
        /// Length of the (possibly encrypted) token; the bytes are not kept.
        token_len: usize,
        /// How the token was encrypted.
        encryption_algorithm: Option<&'a [u8]>,
    },
    /// Any other encoding id (or non-numeric: `u32::MAX`), or a known one
    /// whose body is not binary.
    Other {
        /// The encoding id.
        type_id: u32,
    },
}

impl IdentityToken<'_> {
    /// The token type, for the four standard tokens.
    pub fn token_type(&self) -> Option<UserTokenType> {
        match self {
            IdentityToken::Anonymous { .. } => Some(UserTokenType::ANONYMOUS),
            IdentityToken::UserName { .. } => Some(UserTokenType::USER_NAME),
            IdentityToken::X509 { .. } => Some(UserTokenType::CERTIFICATE),
            IdentityToken::Issued { .. } => Some(UserTokenType::ISSUED_TOKEN),
            IdentityToken::Absent | IdentityToken::Other { .. } => None,
        }
    }

    /// The encoding id of the token; `None` when absent.
    pub fn type_id(&self) -> Option<u32> {
        match self {
            IdentityToken::Absent => None,
            IdentityToken::Anonymous { .. } => Some(token_id::ANONYMOUS),
            IdentityToken::UserName { .. } => Some(token_id::USER_NAME),
            IdentityToken::X509 { .. } => Some(token_id::X509),
            IdentityToken::Issued { .. } => Some(token_id::ISSUED),
            IdentityToken::Other { type_id } => Some(*type_id),
        }
    }
}

fn read_identity_token<'a>(r: &mut Reader<'a>) -> Result<IdentityToken<'a>, Error> {
    let object = read_extension_object(r)?;
    let id = object.type_id.numeric();
    let body = match object.body {
        ExtensionBody::Binary(body) => body,
        ExtensionBody::None if id == Some(0) => return Ok(IdentityToken::Absent),
        ExtensionBody::None | ExtensionBody::Xml(_) => {
            return Ok(IdentityToken::Other {
                type_id: id.unwrap_or(u32::MAX),
            });
        }
    };
    let mut t = Reader::new(body, Layer::OpcUaService);
    Ok(match id {
        Some(token_id::ANONYMOUS) => IdentityToken::Anonymous {
            policy_id: read_string(&mut t)?,
        },
        Some(token_id::USER_NAME) => IdentityToken::UserName {
            policy_id: read_string(&mut t)?,
            user_name: read_string(&mut t)?,
            // Only the length leaves this function: the password is never kept.
            password_len: read_string(&mut t)?.map_or(0, <[u8]>::len),
            encryption_algorithm: read_string(&mut t)?,
        },
        Some(token_id::X509) => IdentityToken::X509 {
            policy_id: read_string(&mut t)?,
            certificate: read_string(&mut t)?,
        },
        Some(token_id::ISSUED) => IdentityToken::Issued {
            policy_id: read_string(&mut t)?,
            token_len: read_string(&mut t)?.map_or(0, <[u8]>::len),
            encryption_algorithm: read_string(&mut t)?,
        },
        other => IdentityToken::Other {
            type_id: other.unwrap_or(u32::MAX),
        },
    })
}

/// ActivateSessionRequest (clientSoftwareCertificates are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivateSessionRequest<'a> {
    /// Request header (its authentication token names the session).
    pub header: RequestHeader<'a>,
    /// Algorithm of the client's signature over the server certificate and nonce.
    pub client_signature_algorithm: Option<&'a [u8]>,
    /// Preferred locales.
    pub locale_ids: Vec<Option<&'a [u8]>>,
    /// The user identity.
    pub identity: IdentityToken<'a>,
    /// Algorithm of the user token signature (X.509 and issued tokens).
    pub user_token_signature_algorithm: Option<&'a [u8]>,
}

/// ActivateSessionResponse (diagnostic infos are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivateSessionResponse<'a> {
    /// Response header.
    pub header: ResponseHeader,
    /// New server nonce.
    pub server_nonce: Option<&'a [u8]>,
    /// Per software certificate results.
    pub results: Vec<StatusCode>,
}

/// A decoded service message. Requests and responses the sensor does not decode in full keep their header.
#[derive(Debug, Clone, PartialEq)]
pub enum Service<'a> {
    /// OpenSecureChannelRequest.
    OpenSecureChannelRequest(OpenSecureChannelRequest<'a>),
    /// OpenSecureChannelResponse.
    OpenSecureChannelResponse(OpenSecureChannelResponse<'a>),
    /// GetEndpointsRequest.
    GetEndpointsRequest(GetEndpointsRequest<'a>),
    /// GetEndpointsResponse.
    GetEndpointsResponse(GetEndpointsResponse<'a>),
    /// FindServersRequest.
    FindServersRequest(FindServersRequest<'a>),
    /// FindServersResponse.
    FindServersResponse(FindServersResponse<'a>),
    /// CreateSessionRequest.
    CreateSessionRequest(CreateSessionRequest<'a>),
    /// CreateSessionResponse.
    CreateSessionResponse(CreateSessionResponse<'a>),
    /// ActivateSessionRequest.
    ActivateSessionRequest(ActivateSessionRequest<'a>),
    /// ActivateSessionResponse.
    ActivateSessionResponse(ActivateSessionResponse<'a>),
    /// ServiceFault: a request failed as a whole.
    ServiceFault(ResponseHeader),
    /// Any other request: only its header is decoded.
    OtherRequest {
        /// The request's encoding id.
        id: ServiceId,
        /// Its header.
        header: RequestHeader<'a>,
    },
    /// Any other response: only its header is decoded.
    OtherResponse {
        /// The response's encoding id.
        id: ServiceId,
        /// Its header.
        header: ResponseHeader,
    },
    /// Not a ns0 numeric service id.
    Unknown {
        /// The type id found.
        type_id: NodeId<'a>,
    },
}

/// Decodes a service message. Bytes after a fully decoded body are allowed
/// (some stacks pad); a truncated or malformed body is an error.
pub fn decode<'a>(message: &ServiceMessage<'a>) -> Result<Service<'a>, Error> {
    let Some(id) = message.service_id().filter(|id| id.name().is_some()) else {
        return Ok(Service::Unknown {
            type_id: message.type_id,
        });
    };
    let mut r = message.reader();
    let r = &mut r;
    Ok(match id {
        ServiceId::SERVICE_FAULT => Service::ServiceFault(read_response_header(r)?),
        ServiceId::OPEN_SECURE_CHANNEL_REQUEST => {
            Service::OpenSecureChannelRequest(OpenSecureChannelRequest {
                header: read_request_header(r)?,
                client_protocol_version: r.le_u32()?,
                request_type: RequestType(r.le_u32()?),
                security_mode: MessageSecurityMode(r.le_u32()?),
                client_nonce: read_string(r)?,
                requested_lifetime: r.le_u32()?,
            })
        }
        ServiceId::OPEN_SECURE_CHANNEL_RESPONSE => {
            Service::OpenSecureChannelResponse(OpenSecureChannelResponse {
                header: read_response_header(r)?,
                server_protocol_version: r.le_u32()?,
                channel_id: r.le_u32()?,
                token_id: r.le_u32()?,
                created_at: read_datetime(r)?,
                revised_lifetime: r.le_u32()?,
                server_nonce: read_string(r)?,
            })
        }
        ServiceId::GET_ENDPOINTS_REQUEST => Service::GetEndpointsRequest(GetEndpointsRequest {
            header: read_request_header(r)?,
            endpoint_url: read_string(r)?,
            locale_ids: read_string_array(r)?,
            profile_uris: read_string_array(r)?,
        }),
        ServiceId::GET_ENDPOINTS_RESPONSE => Service::GetEndpointsResponse(GetEndpointsResponse {
            header: read_response_header(r)?,
            endpoints: read_endpoints(r)?,
        }),
        ServiceId::FIND_SERVERS_REQUEST => Service::FindServersRequest(FindServersRequest {
            header: read_request_header(r)?,
            endpoint_url: read_string(r)?,
            locale_ids: read_string_array(r)?,
            server_uris: read_string_array(r)?,
        }),
        ServiceId::FIND_SERVERS_RESPONSE => {
            let header = read_response_header(r)?;
            let count = read_array_len(r, min_size::APPLICATION_DESCRIPTION)?;
            let servers = (0..count)
                .map(|_| read_application_description(r))
                .collect::<Result<_, _>>()?;
            Service::FindServersResponse(FindServersResponse { header, servers })
        }
        ServiceId::CREATE_SESSION_REQUEST => Service::CreateSessionRequest(CreateSessionRequest {
            header: read_request_header(r)?,
            client_description: read_application_description(r)?,
            server_uri: read_string(r)?,
            endpoint_url: read_string(r)?,
            session_name: read_string(r)?,
            client_nonce: read_string(r)?,
            client_certificate: read_string(r)?,
            requested_session_timeout: r.le_f64()?,
            max_response_message_size: r.le_u32()?,
        }),
        ServiceId::CREATE_SESSION_RESPONSE => {
            let header = read_response_header(r)?;
            let session_id = read_node_id(r)?;
            let authentication_token = read_node_id(r)?;
            let revised_session_timeout = r.le_f64()?;
            let server_nonce = read_string(r)?;
            let server_certificate = read_string(r)?;
            let server_endpoints = read_endpoints(r)?;
            skip_software_certificates(r)?;
            Service::CreateSessionResponse(CreateSessionResponse {
                header,
                session_id,
                authentication_token,
                revised_session_timeout,
                server_nonce,
                server_certificate,
                server_endpoints,
                server_signature_algorithm: read_signature_algorithm(r)?,
                max_request_message_size: r.le_u32()?,
            })
        }
        ServiceId::ACTIVATE_SESSION_REQUEST => {
            let header = read_request_header(r)?;
            let client_signature_algorithm = read_signature_algorithm(r)?;
            skip_software_certificates(r)?;
            Service::ActivateSessionRequest(ActivateSessionRequest {
                header,
                client_signature_algorithm,
                locale_ids: read_string_array(r)?,
                identity: read_identity_token(r)?,
                user_token_signature_algorithm: read_signature_algorithm(r)?,
            })
        }
        ServiceId::ACTIVATE_SESSION_RESPONSE => {
            let header = read_response_header(r)?;
            let server_nonce = read_string(r)?;
            let count = read_array_len(r, min_size::STATUS_CODE)?;
            let results = (0..count)
                .map(|_| r.le_u32().map(StatusCode))
                .collect::<Result<_, _>>()?;
            skip_diagnostic_infos(r)?;
            Service::ActivateSessionResponse(ActivateSessionResponse {
                header,
                server_nonce,
                results,
            })
        }
        id if id.is_request() => Service::OtherRequest {
            id,
            header: read_request_header(r)?,
        },
        id => Service::OtherResponse {
            id,
            header: read_response_header(r)?,
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    /// Appends a UA String.
    fn string(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(&(s.len() as i32).to_le_bytes());
        out.extend_from_slice(s);
    }

    const NULL: [u8; 4] = [0xFF; 4];

    /// A request header: null token, handle `handle`, no audit id, no additional header.
    fn request_header(out: &mut Vec<u8>, handle: u8) {
        out.extend_from_slice(&[
            0x00, 0x00, // authentication token: null (two-byte i=0)
            0, 0, 0, 0, 0, 0, 0, 0, // timestamp
            handle, 0, 0, 0, // request handle
            0, 0, 0, 0, // return diagnostics
            0xFF, 0xFF, 0xFF, 0xFF, // audit entry id: null
            0x10, 0x27, 0, 0, // timeout hint 10000 ms
            0x00, 0x00, 0x00, // additional header: null
        ]);
    }

    /// A response header with `result`: no diagnostics, empty string table, no additional header.
    fn response_header(out: &mut Vec<u8>, handle: u8, result: u32) {
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, handle, 0, 0, 0]);
        out.extend_from_slice(&result.to_le_bytes());
        out.extend_from_slice(&[
            0x00, // service diagnostics: empty mask
            0xFF, 0xFF, 0xFF, 0xFF, // string table: null
            0x00, 0x00, 0x00, // additional header: null
        ]);
    }

    /// An ApplicationDescription of a server with one discovery URL.
    fn application(out: &mut Vec<u8>, uri: &[u8], kind: u32) {
        string(out, uri); // application URI
        string(out, b"urn:vendor"); // product URI
        out.push(0x02); // application name: text only
        string(out, b"Plant server");
        out.extend_from_slice(&kind.to_le_bytes()); // application type
        out.extend_from_slice(&NULL); // gateway server URI
        out.extend_from_slice(&NULL); // discovery profile URI
        out.extend_from_slice(&1i32.to_le_bytes()); // one discovery URL
        string(out, b"opc.tcp://plc:4840");
    }

    /// An EndpointDescription with the given mode, policy and user token policies.
    fn endpoint(out: &mut Vec<u8>, mode: u32, policy: &[u8], tokens: &[(&[u8], u32)]) {
        string(out, b"opc.tcp://plc:4840"); // endpoint URL
        application(out, b"urn:plc", 0);
        string(out, &[0x30, 0x82]); // server certificate (stand-in bytes)
        out.extend_from_slice(&mode.to_le_bytes()); // security mode
        string(out, policy); // security policy URI
        out.extend_from_slice(&(tokens.len() as i32).to_le_bytes());
        for &(id, kind) in tokens {
            string(out, id); // policy id
            out.extend_from_slice(&kind.to_le_bytes()); // token type
            out.extend_from_slice(&NULL); // issued token type
            out.extend_from_slice(&NULL); // issuer endpoint URL
            out.extend_from_slice(&NULL); // security policy URI
        }
        string(
            out,
            b"http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary",
        );
        out.push(if mode == 1 { 0 } else { 3 }); // security level
    }

    const NONE: &[u8] = b"http://opcfoundation.org/UA/SecurityPolicy#None";
    const B256: &[u8] = b"http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";

    fn decoded(bytes: &[u8]) -> Service<'_> {
        let message = split_service(bytes).unwrap();
        // Every truncation is an error or a shorter decode, never a panic.
        for n in 0..bytes.len() {
            if let Ok(m) = split_service(&bytes[..n]) {
                let _ = decode(&m);
            }
        }
        decode(&message).unwrap()
    }

    #[test]
    fn service_ids() {
        assert_eq!(
            ServiceId::READ_REQUEST.response(),
            Some(ServiceId::READ_RESPONSE)
        );
        assert!(ServiceId::READ_REQUEST.is_request() && !ServiceId::READ_REQUEST.is_response());
        assert!(ServiceId::READ_RESPONSE.is_response());
        assert!(!ServiceId::SERVICE_FAULT.is_request() && !ServiceId::SERVICE_FAULT.is_response());
        assert_eq!(ServiceId(12208).service(), Some("FindServersOnNetwork"));
        assert_eq!(ServiceId(431).service(), Some("GetEndpoints"));
        assert_eq!(ServiceId(431).name(), Some("get_endpoints_response"));
        assert_eq!(ServiceId(410).name(), None);
        // Every request pairs with a response, every named id but ServiceFault is one of them.
        for &id in ServiceId::ALL {
            assert_eq!(
                id.is_request() || id.is_response(),
                id != ServiceId::SERVICE_FAULT
            );
        }
        assert_eq!(SERVICES.len() * 2 + 1, ServiceId::ALL.len());
    }

    #[test]
    fn open_secure_channel_pair() {
        let mut req = vec![0x01, 0x00, 0xBE, 0x01]; // ns0;i=446
        request_header(&mut req, 1);
        req.extend_from_slice(&[
            0, 0, 0, 0, // client protocol version
            0, 0, 0, 0, // issue
            1, 0, 0, 0, // security mode None
            0, 0, 0, 0, // client nonce: empty
            0x80, 0xEE, 0x36, 0x00, // requested lifetime 3600000 ms
        ]);
        let Service::OpenSecureChannelRequest(o) = decoded(&req) else {
            panic!("not an OPN request");
        };
        assert_eq!(o.request_type, RequestType::ISSUE);
        assert_eq!(o.security_mode, MessageSecurityMode::NONE);
        assert_eq!(o.requested_lifetime, 3_600_000);
        assert_eq!(o.client_nonce, Some(&b""[..]));

        let mut resp = vec![0x01, 0x00, 0xC1, 0x01]; // ns0;i=449
        response_header(&mut resp, 1, 0);
        resp.extend_from_slice(&[
            0, 0, 0, 0, // server protocol version
            8, 0, 0, 0, // channel 8
            1, 0, 0, 0, // token 1
            1, 2, 3, 4, 5, 6, 7, 8, // created at
            0x80, 0xEE, 0x36, 0x00, // revised lifetime
            1, 0, 0, 0, 0xAA, // server nonce
        ]);
        let Service::OpenSecureChannelResponse(o) = decoded(&resp) else {
            panic!("not an OPN response");
        };
        assert_eq!((o.channel_id, o.token_id), (8, 1));
        assert_eq!(o.server_nonce, Some(&[0xAA][..]));
    }

    #[test]
    fn get_endpoints_response_with_two_endpoints() {
        let mut m = vec![0x01, 0x00, 0xAF, 0x01]; // ns0;i=431
        response_header(&mut m, 2, 0);
        m.extend_from_slice(&2i32.to_le_bytes()); // two endpoints
        endpoint(&mut m, 1, NONE, &[(b"anonymous", 0), (b"username", 1)]);
        endpoint(&mut m, 3, B256, &[(b"cert", 2)]);
        let Service::GetEndpointsResponse(g) = decoded(&m) else {
            panic!("not GetEndpointsResponse");
        };
        assert!(g.header.service_result.is_good());
        assert_eq!(g.endpoints.len(), 2);
        let [first, second] = &g.endpoints[..] else {
            panic!()
        };
        assert_eq!(first.security_mode, MessageSecurityMode::NONE);
        assert_eq!(first.security_policy_uri, Some(NONE));
        assert_eq!(
            first
                .user_identity_tokens
                .iter()
                .map(|t| t.token_type)
                .collect::<Vec<_>>(),
            [UserTokenType::ANONYMOUS, UserTokenType::USER_NAME]
        );
        assert_eq!(first.server.application_uri, Some(&b"urn:plc"[..]));
        assert_eq!(first.server.application_type, ApplicationType::SERVER);
        assert_eq!(
            first.server.application_name.text,
            Some(&b"Plant server"[..])
        );
        assert_eq!(
            first.server.discovery_urls,
            [Some(&b"opc.tcp://plc:4840"[..])]
        );
        assert_eq!(second.security_mode, MessageSecurityMode::SIGN_AND_ENCRYPT);
        assert_eq!(second.security_level, 3);
        assert_eq!(second.user_identity_tokens[0].policy_id, Some(&b"cert"[..]));
        assert_eq!(second.server_certificate, Some(&[0x30, 0x82][..]));
        // A count far above what the bytes can hold is refused before allocating.
        let mut lying = vec![0x01, 0x00, 0xAF, 0x01];
        response_header(&mut lying, 2, 0);
        lying.extend_from_slice(&4000i32.to_le_bytes());
        let message = split_service(&lying).unwrap();
        assert!(matches!(decode(&message), Err(Error::Incomplete { .. })));
    }

    #[test]
    fn get_endpoints_and_find_servers_requests() {
        let mut m = vec![0x01, 0x00, 0xAC, 0x01]; // ns0;i=428
        request_header(&mut m, 1);
        string(&mut m, b"opc.tcp://plc:4840"); // endpoint URL
        m.extend_from_slice(&[0, 0, 0, 0]); // locale ids: empty
        m.extend_from_slice(&NULL); // profile URIs: null
        let Service::GetEndpointsRequest(g) = decoded(&m) else {
            panic!()
        };
        assert_eq!(g.endpoint_url, Some(&b"opc.tcp://plc:4840"[..]));
        assert!(g.locale_ids.is_empty() && g.profile_uris.is_empty());

        let mut m = vec![0x01, 0x00, 0xA9, 0x01]; // ns0;i=425 FindServersResponse
        response_header(&mut m, 1, 0);
        m.extend_from_slice(&1i32.to_le_bytes());
        application(&mut m, b"urn:lds", 3);
        let Service::FindServersResponse(f) = decoded(&m) else {
            panic!()
        };
        assert_eq!(
            f.servers[0].application_type,
            ApplicationType::DISCOVERY_SERVER
        );
    }

    #[test]
    fn create_session_pair() {
        let mut req = vec![0x01, 0x00, 0xCD, 0x01]; // ns0;i=461
        request_header(&mut req, 3);
        application(&mut req, b"urn:client", 1); // client description
        req.extend_from_slice(&NULL); // server URI
        string(&mut req, b"opc.tcp://plc:4840"); // endpoint URL
        string(&mut req, b"session-1"); // session name
        string(&mut req, &[7; 32]); // client nonce
        req.extend_from_slice(&NULL); // client certificate
        req.extend_from_slice(&1_200_000f64.to_le_bytes()); // requested timeout
        req.extend_from_slice(&0x0100_0000u32.to_le_bytes()); // max response size
        let Service::CreateSessionRequest(c) = decoded(&req) else {
            panic!()
        };
        assert_eq!(
            c.client_description.application_type,
            ApplicationType::CLIENT
        );
        assert_eq!(c.session_name, Some(&b"session-1"[..]));
        assert_eq!(c.client_nonce.map(<[u8]>::len), Some(32));
        assert_eq!(c.client_certificate, None);
        assert_eq!(c.requested_session_timeout, 1_200_000.0);
        assert_eq!(c.max_response_message_size, 0x0100_0000);

        let mut resp = vec![0x01, 0x00, 0xD0, 0x01]; // ns0;i=464
        response_header(&mut resp, 3, 0);
        resp.extend_from_slice(&[0x02, 0x01, 0x00, 0x39, 0x30, 0, 0]); // session id ns1;i=12345
        resp.extend_from_slice(&[0x05, 0x01, 0x00, 2, 0, 0, 0, 0xDE, 0xAD]); // token ns1;b=3q0=
        resp.extend_from_slice(&60_000f64.to_le_bytes()); // revised timeout
        string(&mut resp, &[9; 32]); // server nonce
        string(&mut resp, &[0x30, 0x82, 0x01]); // server certificate
        resp.extend_from_slice(&1i32.to_le_bytes()); // one endpoint
        endpoint(&mut resp, 2, B256, &[(b"anon", 0)]);
        resp.extend_from_slice(&1i32.to_le_bytes()); // one software certificate ...
        string(&mut resp, b"cert"); // ... its certificate
        string(&mut resp, b"sig"); // ... its signature
        string(
            &mut resp,
            b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        ); // signature algorithm
        string(&mut resp, &[1; 16]); // signature
        resp.extend_from_slice(&[0, 0, 0, 0]); // max request size: no limit
        let Service::CreateSessionResponse(c) = decoded(&resp) else {
            panic!()
        };
        assert_eq!(
            c.session_id,
            NodeId::Numeric {
                namespace: 1,
                id: 12345
            }
        );
        assert_eq!(
            c.authentication_token,
            NodeId::Opaque {
                namespace: 1,
                id: &[0xDE, 0xAD]
            }
        );
        assert_eq!(c.revised_session_timeout, 60_000.0);
        assert_eq!(
            c.server_endpoints[0].security_mode,
            MessageSecurityMode::SIGN
        );
        assert_eq!(
            c.server_signature_algorithm,
            Some(&b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"[..])
        );
        assert_eq!(c.max_request_message_size, 0);
    }

    /// An ActivateSessionRequest around `token` (type id, then binary body).
    fn activate(token: &[u8]) -> Vec<u8> {
        let mut m = vec![0x01, 0x00, 0xD3, 0x01]; // ns0;i=467
        request_header(&mut m, 4);
        m.extend_from_slice(&NULL); // client signature algorithm
        m.extend_from_slice(&NULL); // client signature
        m.extend_from_slice(&0i32.to_le_bytes()); // software certificates: empty
        m.extend_from_slice(&1i32.to_le_bytes()); // one locale
        string(&mut m, b"en");
        m.extend_from_slice(token); // user identity token
        m.extend_from_slice(&NULL); // user token signature algorithm
        m.extend_from_slice(&NULL); // user token signature
        m
    }

    fn identity(bytes: &[u8]) -> IdentityToken<'_> {
        let Service::ActivateSessionRequest(a) = decoded(bytes) else {
            panic!("not ActivateSessionRequest")
        };
        assert_eq!(a.locale_ids, [Some(&b"en"[..])]);
        a.identity
    }

    #[test]
    fn activate_session_with_each_identity_token() {
        let anonymous = activate(&[
            0x01, 0x00, 0x41, 0x01, // ns0;i=321 AnonymousIdentityToken
            0x01, // binary body
            0x08, 0x00, 0x00, 0x00, // body length 8
            0x04, 0x00, 0x00, 0x00, b'a', b'n', b'o', b'n', // policy id "anon"
        ]);
        let t = identity(&anonymous);
        assert_eq!(
            t,
            IdentityToken::Anonymous {
                policy_id: Some(b"anon")
            }
        );
        assert_eq!(
            (t.token_type(), t.type_id()),
            (Some(UserTokenType::ANONYMOUS), Some(321))
        );

        let user = activate(&[
            0x01, 0x00, 0x44, 0x01, // ns0;i=324 UserNameIdentityToken
            0x01, // binary body
            0x1D, 0x00, 0x00, 0x00, // body length 29
            0x02, 0x00, 0x00, 0x00, b'u', b'p', // policy id "up"
            0x05, 0x00, 0x00, 0x00, b'u', b's', b'e', b'r', b'1', // user name "user1"
            0x06, 0x00, 0x00, 0x00, b's', b'3', b'c', b'r', b'3', b't', // password
            0xFF, 0xFF, 0xFF, 0xFF, // encryption algorithm: null (plain text)
        ]);
        let t = identity(&user);
        assert_eq!(
            t,
            IdentityToken::UserName {
                policy_id: Some(b"up"),
                user_name: Some(b"user1"),
                password_len: 6,
                encryption_algorithm: None,
            }
        );
        // The password bytes are not reachable from the decoded value.
        let printed = format!("{:?}", decoded(&user));
        assert!(
            !printed.contains("115, 51, 99") && !printed.contains("s3cr3t"),
            "{printed}"
        );
        assert_eq!(t.token_type(), Some(UserTokenType::USER_NAME));

        let x509 = activate(&[
            0x01, 0x00, 0x47, 0x01, // ns0;i=327 X509IdentityToken
            0x01, // binary body
            0x0D, 0x00, 0x00, 0x00, // body length 13
            0x01, 0x00, 0x00, 0x00, b'x', // policy id "x"
            0x04, 0x00, 0x00, 0x00, 0x30, 0x82, 0x01, 0x0A, // certificate
        ]);
        let t = identity(&x509);
        assert_eq!(
            t,
            IdentityToken::X509 {
                policy_id: Some(b"x"),
                certificate: Some(&[0x30, 0x82, 0x01, 0x0A])
            }
        );
        assert_eq!(
            (t.token_type(), t.type_id()),
            (Some(UserTokenType::CERTIFICATE), Some(327))
        );

        let issued = activate(&[
            0x01, 0x00, 0xAC, 0x03, // ns0;i=940 IssuedIdentityToken
            0x01, // binary body
            0x11, 0x00, 0x00, 0x00, // body length 17
            0x01, 0x00, 0x00, 0x00, b'i', // policy id "i"
            0x03, 0x00, 0x00, 0x00, b'j', b'w', b't', // token data
            0x01, 0x00, 0x00, 0x00, b'a', // encryption algorithm "a"
        ]);
        let t = identity(&issued);
        assert_eq!(
            t,
            IdentityToken::Issued {
                policy_id: Some(b"i"),
                token_len: 3,
                encryption_algorithm: Some(b"a")
            }
        );
        assert_eq!(t.token_type(), Some(UserTokenType::ISSUED_TOKEN));

        let absent = activate(&[0x00, 0x00, 0x00]); // null extension object
        assert_eq!(identity(&absent), IdentityToken::Absent);
        assert_eq!(IdentityToken::Absent.type_id(), None);
        let other = activate(&[0x01, 0x02, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]); // ns2;i=1
        assert_eq!(identity(&other), IdentityToken::Other { type_id: u32::MAX });
        let xml = activate(&[0x01, 0x00, 0x44, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!(identity(&xml), IdentityToken::Other { type_id: 324 });
    }

    #[test]
    fn activate_session_response_and_service_fault() {
        let mut m = vec![0x01, 0x00, 0xD6, 0x01]; // ns0;i=470
        response_header(&mut m, 4, 0);
        string(&mut m, &[5; 32]); // server nonce
        m.extend_from_slice(&[
            0x01, 0x00, 0x00, 0x00, // one result
            0x00, 0x00, 0x12, 0x80, // BadCertificateInvalid
            0xFF, 0xFF, 0xFF, 0xFF, // diagnostic infos: null
        ]);
        let Service::ActivateSessionResponse(a) = decoded(&m) else {
            panic!()
        };
        assert_eq!(a.results, [StatusCode(0x8012_0000)]);

        let fault = [
            0x01, 0x00, 0x8D, 0x01, // ns0;i=397 ServiceFault
            0, 0, 0, 0, 0, 0, 0, 0, // timestamp
            0x07, 0x00, 0x00, 0x00, // request handle 7
            0x00, 0x00, 0x1F, 0x80, // BadUserAccessDenied
            0x00, // no diagnostics
            0x00, 0x00, 0x00, 0x00, // string table: empty
            0x00, 0x00, 0x00, // additional header: null
        ];
        let Service::ServiceFault(h) = decoded(&fault) else {
            panic!()
        };
        assert_eq!(h.request_handle, 7);
        assert_eq!(h.service_result.to_string(), "BadUserAccessDenied");
    }

    #[test]
    fn other_and_unknown_messages() {
        let mut read = vec![0x01, 0x00, 0x77, 0x02]; // ns0;i=631 ReadRequest
        request_header(&mut read, 9);
        read.extend_from_slice(&[0xAB; 10]); // body not decoded
        let Service::OtherRequest { id, header } = decoded(&read) else {
            panic!()
        };
        assert_eq!((id, header.request_handle), (ServiceId::READ_REQUEST, 9));
        let mut publish = vec![0x01, 0x00, 0x3D, 0x03]; // ns0;i=829 PublishResponse
        response_header(&mut publish, 9, 0x8079_0000);
        let Service::OtherResponse { id, header } = decoded(&publish) else {
            panic!()
        };
        assert_eq!(id, ServiceId::PUBLISH_RESPONSE);
        assert_eq!(header.service_result.name(), Some("BadNoSubscription"));
        let unknown = [0x01, 0x00, 0x9A, 0x01, 0xFF]; // ns0;i=410 TestStackRequest
        assert!(matches!(decoded(&unknown), Service::Unknown { .. }));
        let message = split_service(&unknown).unwrap();
        assert_eq!(message.service_id(), Some(ServiceId(410)));
        let string_id = [0x03, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, b'x'];
        assert_eq!(split_service(&string_id).unwrap().service_id(), None);
        assert!(split_service(&[0x01, 0x00]).is_err());
    }
}
