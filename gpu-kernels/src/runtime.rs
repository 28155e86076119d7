//! The wgpu side: choosing the adapter, the buffers of one spec's kernel
//! (sized to the device's limits), bounded dispatches over a tile of the
//! frontier, the visited table's upkeep, and every failure as a
//! [`GpuError`] rather than a panic or a wrong answer.

use std::sync::{Arc, Mutex};

use model::Model;
use wgpu::util::DeviceExt as _;

use crate::codegen::{
    self, COUNTERS, FIXED_STORAGE_BINDINGS, Kernel, Options, Unsupported, WORKGROUP_SIZE,
};

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
    device: wgpu::Device,
    queue: wgpu::Queue,
    limits: wgpu::Limits,
    /// "NVIDIA H100 80GB HBM3 (Vulkan)", "llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan)".
    pub name: String,
    /// A CPU (software) adapter, such as Mesa's lavapipe.
    pub software: bool,
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
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("fathom"),
            required_features: wgpu::Features::empty(),
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
            device,
            queue,
            limits,
            failed,
        })
    }

    fn check(&self) -> Result<(), GpuError> {
        match self.failed.lock().ok().and_then(|s| s.clone()) {
            Some(m) => Err(GpuError::Device(m)),
            None => Ok(()),
        }
    }

    /// An error of `what`, or the device's own failure when there is one
    /// (a lost device explains a failed read better than the read does).
    fn failure(&self, what: String) -> GpuError {
        match self.check() {
            Err(e) => e,
            Ok(()) => GpuError::Device(what),
        }
    }

    /// The largest storage binding, and buffer, this device takes.
    fn binding_max(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// Makes the device lost, as a driver reset would (fault injection).
    pub fn destroy(&self) {
        self.device.destroy();
    }

    /// Runs `make` inside error scopes: what wgpu refuses (validation, out
    /// of memory) comes back as `Err(message)` instead of an uncaptured error.
    fn scoped<T>(&self, make: impl FnOnce(&wgpu::Device) -> T) -> Result<T, String> {
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

    fn buffer(
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
    fn read(&self, buf: &wgpu::Buffer, bytes: u64) -> Result<Vec<u32>, GpuError> {
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let slice = buf.slice(..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: None,
            })
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
}

/// What one tile gave: the candidates (words, and per candidate the
/// parent's frontier index, the rule instance and the fingerprint words),
/// and per state its generated count and whether it needs the CPU.
#[derive(Default)]
pub struct TileOut {
    pub words: Vec<u32>,
    pub meta: Vec<u32>,
    /// Per state: generated successors; bit 31: rerun on the CPU.
    pub info: Vec<u32>,
    pub reachables: u64,
}

pub const NEEDS_CPU: u32 = 1 << 31;

/// What the device did: the tests read it to see the table fill and clear.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub dispatches: u64,
    /// Successors reported to the host (new to the table, or undecided).
    pub candidates: u64,
    pub table_inserts: u64,
    /// Lookups that found their first word claimed but the rest not yet
    /// written after a short wait: reported, for the host to decide.
    pub table_waits_given_up: u64,
    /// Times the table was cleared at half full.
    pub table_clears: u64,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n_states: u32,
    first: u32,
    expand: u32,
    deadlock: u32,
    table_mask: u32,
    buf_shift: u32,
    cap: u32,
    epoch: u32,
}

/// One spec's kernel on one device, with its buffers.
pub struct Explorer {
    gpu: Arc<Gpu>,
    pub kernel: Kernel,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    frontier: wgpu::Buffer,
    out_words: wgpu::Buffer,
    out_meta: wgpu::Buffer,
    info: wgpu::Buffer,
    counters: wgpu::Buffer,
    params: wgpu::Buffer,
    tables: Vec<wgpu::Buffer>,
    staging: wgpu::Buffer,
    /// Frontier states per dispatch.
    dispatch_states: u32,
    table_slots: u64,
    buf_shift: u32,
    /// Table inserts since it was last cleared.
    inserted: u64,
    stats: Stats,
    /// Fault injection: make the device lost before this dispatch.
    lose_at: Option<u64>,
}

/// How to size an [`Explorer`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Sizing {
    /// Bytes of the visited table; `None`: as much as the bindings allow,
    /// up to 4 GiB (64 MiB on a software adapter).
    pub table_bytes: Option<u64>,
    /// Bytes of each output buffer per dispatch (bounds the dispatch);
    /// `None`: 256 MiB (64 MiB on a software adapter), within the limits.
    pub output_bytes: Option<u64>,
}

impl Explorer {
    pub fn new(
        gpu: Arc<Gpu>,
        model: &Model,
        fp128: bool,
        sizing: Sizing,
    ) -> Result<Explorer, GpuError> {
        if std::env::var_os("FATHOM_GPU_FAULT").is_some_and(|v| v == "alloc") {
            // Fault injection: a buffer no device can hold.
            gpu.buffer("injected", u64::MAX / 4, wgpu::BufferUsages::STORAGE)?;
        }
        let lose_at = std::env::var("FATHOM_GPU_FAULT")
            .ok()
            .and_then(|v| v.strip_prefix("lose-at:").and_then(|n| n.parse().ok()));
        let fp_words: u64 = if fp128 { 4 } else { 2 };
        let binding = gpu.binding_max();
        let storage_max = gpu.limits.max_storage_buffers_per_shader_stage;
        let max_buffers = storage_max
            .saturating_sub(FIXED_STORAGE_BINDINGS)
            .clamp(1, 8);
        // The fingerprint's words and the epoch that inserted it.
        let slot_bytes = (fp_words + 1) * 4;
        let per_buffer_slots = prev_pow2(binding / slot_bytes);
        let want = sizing
            .table_bytes
            .unwrap_or(if gpu.software { 64 << 20 } else { 4 << 30 });
        let want_slots = prev_pow2((want / slot_bytes).max(64));
        let buffer_slots = want_slots.min(per_buffer_slots);
        // A power of two of buffers, so the kernel's masks work (fewer than
        // asked for when the bindings run out).
        let buffers =
            prev_pow2((want_slots / buffer_slots).clamp(1, u64::from(max_buffers))) as u32;
        let table_slots = buffer_slots * u64::from(buffers);

        let kernel = codegen::generate(
            model,
            Options {
                fp128,
                table_buffers: buffers,
            },
        )?;
        let words = u64::from(kernel.words);
        let meta = u64::from(kernel.meta_words);
        let per_state = u64::from(kernel.instances.max(1)) * words.max(meta) * 4;
        let out_cap = sizing
            .output_bytes
            .unwrap_or(if gpu.software { 64 << 20 } else { 256 << 20 })
            .min(binding);
        if per_state > out_cap {
            return Err(GpuError::Unsupported(Unsupported::Other(format!(
                "one state's successors need {per_state} bytes of output, past the device's {out_cap}"
            ))));
        }
        let max_groups = u64::from(gpu.limits.max_compute_workgroups_per_dimension);
        let most = (max_groups * u64::from(WORKGROUP_SIZE))
            .min(binding / (words * 4).max(1))
            .clamp(1, 1 << 20);
        let dispatch_states = (out_cap / per_state).clamp(1, most) as u32;
        let cap = u64::from(dispatch_states) * u64::from(kernel.instances.max(1));

        let pipeline = gpu
            .scoped(|d| pipeline(d, "fathom expand", &kernel.source))
            .map_err(|e| GpuError::Device(format!("the expand kernel was refused: {e}")))?;

        use wgpu::BufferUsages as U;
        let frontier = gpu.buffer(
            "frontier",
            u64::from(dispatch_states) * words * 4,
            U::STORAGE | U::COPY_DST,
        )?;
        let out_words = gpu.buffer("candidates", cap * words * 4, U::STORAGE | U::COPY_SRC)?;
        let out_meta = gpu.buffer("candidate meta", cap * meta * 4, U::STORAGE | U::COPY_SRC)?;
        let info = gpu.buffer(
            "state info",
            u64::from(dispatch_states) * 4,
            U::STORAGE | U::COPY_SRC,
        )?;
        let counters = gpu.buffer(
            "counters",
            COUNTERS as u64 * 4,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
        )?;
        let params = gpu.buffer(
            "params",
            std::mem::size_of::<Params>() as u64,
            U::UNIFORM | U::COPY_DST,
        )?;
        let mut tables = Vec::new();
        for b in 0..buffers {
            tables.push(gpu.buffer(
                &format!("visited table {b}"),
                buffer_slots * slot_bytes,
                U::STORAGE | U::COPY_DST,
            )?);
        }
        // Candidates' words and metadata come back together: one map.
        let staging_bytes =
            (cap * (words + meta) * 4).max(u64::from(dispatch_states) * 4 + COUNTERS as u64 * 4);
        let staging = gpu.buffer("staging", staging_bytes, U::MAP_READ | U::COPY_DST)?;

        let mut entries = vec![
            entry(0, &frontier),
            entry(1, &out_words),
            entry(2, &out_meta),
            entry(3, &info),
            entry(4, &counters),
            entry(5, &params),
        ];
        for (b, t) in tables.iter().enumerate() {
            entries.push(entry(6 + b as u32, t));
        }
        let bind_group = gpu
            .scoped(|d| {
                d.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("fathom expand"),
                    layout: &pipeline.get_bind_group_layout(0),
                    entries: &entries,
                })
            })
            .map_err(|e| GpuError::Device(format!("binding the buffers failed: {e}")))?;
        gpu.check()?;
        Ok(Explorer {
            gpu,
            kernel,
            pipeline,
            bind_group,
            frontier,
            out_words,
            out_meta,
            info,
            counters,
            params,
            tables,
            staging,
            dispatch_states,
            table_slots,
            buf_shift: buffer_slots.trailing_zeros(),
            inserted: 0,
            stats: Stats::default(),
            lose_at,
        })
    }

    pub fn device_name(&self) -> &str {
        &self.gpu.name
    }

    /// What the device has done so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Expands `states` (packed, `words` each; frontier indexes `first..`),
    /// in dispatches of at most `dispatch_states`.
    pub fn expand(
        &mut self,
        states: &[u32],
        first: u32,
        expand: bool,
        deadlock: bool,
    ) -> Result<TileOut, GpuError> {
        let words = self.kernel.words as usize;
        assert_eq!(states.len() % words.max(1), 0, "whole states");
        let mut out = TileOut::default();
        let per = self.dispatch_states as usize * words;
        for (d, part) in states.chunks(per.max(1)).enumerate() {
            let base = first + (d * self.dispatch_states as usize) as u32;
            self.dispatch(part, base, expand, deadlock, &mut out)?;
        }
        Ok(out)
    }

    fn dispatch(
        &mut self,
        states: &[u32],
        first: u32,
        expand: bool,
        deadlock: bool,
        out: &mut TileOut,
    ) -> Result<(), GpuError> {
        self.stats.dispatches += 1;
        if self.lose_at.is_some_and(|n| self.stats.dispatches >= n) {
            self.gpu.destroy();
        }
        self.gpu.check()?;
        // Half full: the table is cleared. Every fingerprint in it was
        // reported to the host, whose visited set keeps them all.
        if self.inserted * 2 > self.table_slots {
            let mut enc = self.gpu.device.create_command_encoder(&Default::default());
            for t in &self.tables {
                enc.clear_buffer(t, 0, None);
            }
            self.gpu.queue.submit([enc.finish()]);
            self.inserted = 0;
            self.stats.table_clears += 1;
        }
        let words = self.kernel.words as usize;
        let n = (states.len() / words.max(1)) as u32;
        let params = Params {
            n_states: n,
            first,
            expand: u32::from(expand),
            deadlock: u32::from(deadlock),
            table_mask: (self.table_slots - 1) as u32,
            buf_shift: self.buf_shift,
            cap: n * self.kernel.instances.max(1),
            // Never 0, which marks a slot whose epoch is not written yet.
            epoch: (self.stats.dispatches % u64::from(u32::MAX)) as u32 + 1,
        };
        let q = &self.gpu.queue;
        q.write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
        if !states.is_empty() {
            q.write_buffer(&self.frontier, 0, bytemuck::cast_slice(states));
        }
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.clear_buffer(&self.counters, 0, None);
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.dispatch_workgroups(n.div_ceil(WORKGROUP_SIZE).max(1), 1, 1);
        }
        let info_bytes = u64::from(n) * 4;
        enc.copy_buffer_to_buffer(&self.counters, 0, &self.staging, 0, COUNTERS as u64 * 4);
        if info_bytes > 0 {
            enc.copy_buffer_to_buffer(
                &self.info,
                0,
                &self.staging,
                COUNTERS as u64 * 4,
                info_bytes,
            );
        }
        q.submit([enc.finish()]);
        let head = self
            .gpu
            .read(&self.staging, COUNTERS as u64 * 4 + info_bytes)?;
        let (counters, info) = head.split_at(COUNTERS);
        if counters[4] != 0 {
            return Err(GpuError::Device(format!(
                "the kernel overflowed its output ({} candidates past {})",
                counters[4], params.cap
            )));
        }
        let count = counters[0] as u64;
        if count > u64::from(params.cap) {
            return Err(GpuError::Device(format!(
                "the kernel counted {count} candidates, past its capacity {}",
                params.cap
            )));
        }
        self.inserted += u64::from(counters[1]);
        self.stats.candidates += count;
        self.stats.table_inserts += u64::from(counters[1]);
        self.stats.table_waits_given_up += u64::from(counters[5]);
        out.reachables |= u64::from(counters[2]) | (u64::from(counters[3]) << 32);
        out.info.extend_from_slice(info);
        if count > 0 {
            let w = count * words as u64 * 4;
            let m = count * u64::from(self.kernel.meta_words) * 4;
            let mut enc = self.gpu.device.create_command_encoder(&Default::default());
            enc.copy_buffer_to_buffer(&self.out_words, 0, &self.staging, 0, w);
            enc.copy_buffer_to_buffer(&self.out_meta, 0, &self.staging, w, m);
            q.submit([enc.finish()]);
            let both = self.gpu.read(&self.staging, w + m)?;
            let (ws, ms) = both.split_at((w / 4) as usize);
            out.words.extend_from_slice(ws);
            out.meta.extend_from_slice(ms);
        }
        self.gpu.check()
    }

    /// The fingerprints the kernel's WGSL computes for `states` (packed,
    /// `words` each): fp_words u32s per state, low word first.
    pub fn fingerprints(
        gpu: &Gpu,
        states: &[u32],
        words: u32,
        fp128: bool,
    ) -> Result<Vec<u32>, GpuError> {
        let source = codegen::fingerprint_kernel(words, fp128);
        let pipeline = gpu
            .scoped(|d| pipeline(d, "fathom fingerprints", &source))
            .map_err(|e| GpuError::Device(format!("the fingerprint kernel was refused: {e}")))?;
        let n = states.len() as u64 / u64::from(words);
        let fpw = if fp128 { 4 } else { 2 };
        use wgpu::BufferUsages as U;
        let input = gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("states"),
                contents: bytemuck::cast_slice(states),
                usage: U::STORAGE,
            });
        let output = gpu.buffer("fingerprints", n * fpw * 4, U::STORAGE | U::COPY_SRC)?;
        let staging = gpu.buffer("staging", n * fpw * 4, U::MAP_READ | U::COPY_DST)?;
        let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[entry(0, &input), entry(1, &output)],
        });
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups((n as u32).div_ceil(64).max(1), 1, 1);
        }
        enc.copy_buffer_to_buffer(&output, 0, &staging, 0, n * fpw * 4);
        gpu.queue.submit([enc.finish()]);
        gpu.read(&staging, n * fpw * 4)
    }
}

/// A compute pipeline of WGSL `source`'s `main`, its layout from the shader.
fn pipeline(device: &wgpu::Device, label: &str, source: &str) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    })
}

fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}

/// The largest power of two not above `n` (1 for 0).
fn prev_pow2(n: u64) -> u64 {
    if n <= 1 {
        1
    } else {
        1 << (63 - n.leading_zeros())
    }
}
