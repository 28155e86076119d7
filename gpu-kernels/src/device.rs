//! The wgpu device: choosing the adapter, the features and limits it
//! offers, buffers inside error scopes, blocking reads, and every failure
//! as a [`GpuError`] rather than a panic or a wrong answer.

use std::sync::{Arc, Mutex};

use crate::codegen::Unsupported;

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter was found{0}")]
    NoAdapter(String),
    #[error("the GPU backend cannot run this spec: {0}")]
    Unsupported(#[from] Unsupported),
    #[error("the GPU device failed: {0}")]
    Device(String),
    #[error("a GPU allocation failed: {0}")]
    Alloc(String),
}

/// An open device and what is known of it.
pub struct Gpu {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    /// "NVIDIA H200 (Vulkan)", "llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan)".
    pub name: String,
    /// A CPU (software) adapter, such as Mesa's lavapipe.
    pub software: bool,
    /// 64-bit integers and every 64-bit atomic (the 64-bit table).
    pub int64_atomics: bool,
    /// Subgroup operations (the table's buckets probed cooperatively).
    pub subgroups: bool,
    /// The first error wgpu reported outside an error scope, or a loss.
    failed: Arc<Mutex<Option<String>>>,
}

impl Gpu {
    /// Opens the best adapter: a discrete GPU, then integrated, virtual,
    /// other; a software one only with `allow_software`.
    pub fn open(allow_software: bool) -> Result<Gpu, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let rank = |t: wgpu::DeviceType| match t {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::VirtualGpu => 2,
            wgpu::DeviceType::Other => 3,
            wgpu::DeviceType::Cpu => 4,
        };
        let software_seen = adapters
            .iter()
            .any(|a| a.get_info().device_type == wgpu::DeviceType::Cpu);
        let adapter = adapters
            .into_iter()
            .filter(|a| allow_software || a.get_info().device_type != wgpu::DeviceType::Cpu)
            .min_by_key(|a| rank(a.get_info().device_type))
            .ok_or_else(|| {
                GpuError::NoAdapter(if software_seen {
                    " (only a software adapter, which needs --allow-software)".into()
                } else {
                    " (no Vulkan, Metal or DX12 device)".into()
                })
            })?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let wanted = wgpu::Features::SHADER_INT64 | wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS;
        let int64_atomics = adapter.features().contains(wanted);
        let subgroups = adapter.features().contains(wgpu::Features::SUBGROUP);
        let mut features = wgpu::Features::empty();
        if int64_atomics {
            features |= wanted;
        }
        if subgroups {
            features |= wgpu::Features::SUBGROUP;
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("fathom"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device(format!("cannot open {}: {e}", info.name)))?;
        let failed = Arc::new(Mutex::new(None::<String>));
        let f = failed.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut slot) = f.lock() {
                slot.get_or_insert_with(|| e.to_string());
            }
        }));
        let f = failed.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut slot) = f.lock() {
                slot.get_or_insert_with(|| format!("device lost ({reason:?}): {message}"));
            }
        });
        Ok(Gpu {
            name: format!("{} ({:?})", info.name, info.backend),
            software: info.device_type == wgpu::DeviceType::Cpu,
            int64_atomics,
            subgroups,
            device,
            queue,
            limits,
            failed,
        })
    }

    pub(crate) fn check(&self) -> Result<(), GpuError> {
        match self.failed.lock().ok().and_then(|s| s.clone()) {
            Some(m) => Err(GpuError::Device(m)),
            None => Ok(()),
        }
    }

    /// An error of `what`, or the device's own failure when there is one
    /// (a lost device explains a failed read better than the read does).
    pub(crate) fn failure(&self, what: String) -> GpuError {
        match self.check() {
            Err(e) => e,
            Ok(()) => GpuError::Device(what),
        }
    }

    /// The largest storage binding this device takes (wgpu binds at most
    /// 2 GiB - 4 bytes: its binding sizes are u32 in places).
    pub(crate) fn binding_max(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
            .min((1 << 31) - 256)
    }

    /// Makes the device lost, as a driver reset would (fault injection).
    pub fn destroy(&self) {
        self.device.destroy();
    }

    /// Runs `make` inside error scopes: what wgpu refuses (validation, out
    /// of memory) comes back as `Err(message)` instead of an uncaptured error.
    pub(crate) fn scoped<T>(&self, make: impl FnOnce(&wgpu::Device) -> T) -> Result<T, String> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let invalid = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let made = make(&self.device);
        let invalid = pollster::block_on(invalid.pop());
        let oom = pollster::block_on(oom.pop());
        match invalid.or(oom) {
            Some(e) => Err(e.to_string()),
            None => Ok(made),
        }
    }

    pub(crate) fn buffer(
        &self,
        label: &str,
        size: u64,
        usage: wgpu::BufferUsages,
    ) -> Result<wgpu::Buffer, GpuError> {
        self.scoped(|d| {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(16).next_multiple_of(16),
                usage,
                mapped_at_creation: false,
            })
        })
        .map_err(|e| GpuError::Alloc(format!("{label} ({size} bytes): {e}")))
    }

    /// Waits for the queue and maps `buf[..bytes]`, reading it as u32s.
    pub(crate) fn read(&self, buf: &wgpu::Buffer, bytes: u64) -> Result<Vec<u32>, GpuError> {
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let slice = buf.slice(..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait { submission_index: None, timeout: None })
            .map_err(|e| self.failure(format!("waiting for the GPU: {e}")))?;
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(self.failure(format!("reading results back: {e}"))),
            Err(_) => return Err(self.failure("reading results back: no answer".into())),
        }
        self.check()?;
        let out = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Device(format!("reading results back: {e}")))?;
            bytemuck::cast_slice::<u8, u32>(&view).to_vec()
        };
        buf.unmap();
        Ok(out)
    }

    /// A compute pipeline of WGSL `source`'s `main`, with the given bind
    /// group layout (or one derived from the shader); refused WGSL is an
    /// error, not a panic.
    pub(crate) fn pipeline(
        &self,
        label: &str,
        source: &str,
        layout: Option<&wgpu::BindGroupLayout>,
    ) -> Result<wgpu::ComputePipeline, GpuError> {
        self.scoped(|d| {
            let module = d.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            let pipeline_layout = layout.map(|l| {
                d.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: Some(label),
                    bind_group_layouts: &[Some(l)],
                    immediate_size: 0,
                })
            });
            d.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: pipeline_layout.as_ref(),
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            })
        })
        .map_err(|e| GpuError::Device(format!("the {label} kernel was refused: {e}")))
    }
}
