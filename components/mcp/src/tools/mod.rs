//! The tools this server offers. To add one, write a small file beside these (a type
//! implementing `protocol::tool::Tool`) and register it below.

mod add;
mod get_app_data;
mod whoami;

use protocol::tool::Registry;

pub fn registry() -> Registry {
    Registry::new()
        .register(whoami::WhoAmI)
        .register(add::Add)
        .register(get_app_data::GetAppData)
}
