/* clients: red5prosrc properties and floor options for the same target. */
#include "clients.h"
#include "element-client.h"
#include "floor-client.h"

namespace bench {

std::shared_ptr<Subscriber>
make_subscriber (const ClientSpec &client, const Target &t)
{
  if (client.floor) {
    FloorOptions o;
    o.host = t.sm2 ? "127.0.0.1" : t.edge;
    o.port = t.port;
    o.stream = t.stream;
    o.sm2_lookup = t.sm2;
    o.websocket = t.websocket;
    o.decode = t.decode;
    o.data_channel = client.data_channel;
    o.offer_first = client.floor_offer_first && t.standard && !t.websocket;
    return std::make_shared<FloorClient> (o);
  }
  std::string props = std::string ("ice-addresses=127.0.0.1") +
      " host=" + (t.sm2 ? std::string ("127.0.0.1 stream-manager=sm2") : t.edge) +
      " port=" + std::to_string (t.port) + " stream-name=" + t.stream +
      (t.websocket ? " signaling=websocket" : "") +
      " data-channel=" + (client.data_channel ? "true" : "false") +
      " retry-timeout=" + std::to_string (t.retry_timeout_ms) +
      " inactivity-timeout=" + std::to_string (t.inactivity_timeout_ms);
  return std::make_shared<ElementClient> (props, t.decode);
}

}  // namespace bench
