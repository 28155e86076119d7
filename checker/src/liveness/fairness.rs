//! The spec's fairness as a flat list of actions: each is a set of rule
//! instances under weak or strong fairness (LANGUAGE.md, "Liveness").

use model::Model;
use model::ir::FairScope;

pub struct Actions {
    /// Per action: strong (SF) or weak (WF).
    pub strong: Vec<bool>,
    /// Per action: its name for messages (`WF(Deliver(m = 1))`).
    pub names: Vec<String>,
    /// Instance -> actions, in compressed rows.
    offsets: Vec<u32>,
    members: Vec<u32>,
}

impl Actions {
    pub fn of(model: &Model) -> Actions {
        let count = model.instance_count() as usize;
        let mut of_instance: Vec<Vec<u32>> = vec![Vec::new(); count];
        let mut strong = Vec::new();
        let mut names = Vec::new();
        let stepper = model::step::Stepper::new(model);
        let mut new_action = |is_strong: bool, name: String| {
            strong.push(is_strong);
            let kind = if is_strong { "SF" } else { "WF" };
            names.push(format!("{kind}({name})"));
            (strong.len() - 1) as u32
        };
        for f in &model.fairness {
            match &f.scope {
                FairScope::EachInstance(r) => {
                    let base = model.instance_base[*r];
                    for local in 0..model.rules[*r].instances {
                        let a = new_action(f.strong, stepper.instance_label(base + local));
                        of_instance[(base + local) as usize].push(a);
                    }
                }
                FairScope::EachProcess(p) => {
                    let process = &model.processes[*p];
                    let first: Vec<u32> = (0..process.count)
                        .map(|k| {
                            let name = if process.singleton {
                                process.name.clone()
                            } else {
                                format!("{}[{k}]", process.name)
                            };
                            new_action(f.strong, name)
                        })
                        .collect();
                    for &(r, _) in &process.rules {
                        let rule = &model.rules[r];
                        // A process step's first parameter is `self`.
                        assert_eq!(rule.params[0].card, process.count as u64, "self parameter");
                        let per_self = rule.instances / process.count as u64;
                        let base = model.instance_base[r];
                        for local in 0..rule.instances {
                            let a = first[(local / per_self) as usize];
                            of_instance[(base + local) as usize].push(a);
                        }
                    }
                }
                FairScope::Rules(rules) => {
                    let list: Vec<&str> = rules
                        .iter()
                        .map(|&r| model.rules[r].name.as_str())
                        .collect();
                    let name = if rules.len() == model.rules.len() {
                        "all".to_string()
                    } else {
                        list.join(", ")
                    };
                    let a = new_action(f.strong, name);
                    for &r in rules {
                        let base = model.instance_base[r];
                        for local in 0..model.rules[r].instances {
                            of_instance[(base + local) as usize].push(a);
                        }
                    }
                }
            }
        }
        let mut offsets = vec![0u32];
        let mut members = Vec::new();
        for list in &mut of_instance {
            list.sort_unstable();
            list.dedup();
            members.extend_from_slice(list);
            offsets.push(members.len() as u32);
        }
        Actions { strong, names, offsets, members }
    }

    pub fn len(&self) -> usize {
        self.strong.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strong.is_empty()
    }

    /// The actions rule instance `instance` belongs to.
    pub fn of_instance(&self, instance: u32) -> &[u32] {
        let i = instance as usize;
        &self.members[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

#[cfg(test)]
impl Actions {
    /// Actions over instances `0..instances` from (strong, members) lists.
    pub fn from_lists(instances: u32, list: &[(bool, &[u32])]) -> Actions {
        let mut of_instance = vec![Vec::new(); instances as usize];
        for (a, (_, members)) in list.iter().enumerate() {
            for &i in *members {
                of_instance[i as usize].push(a as u32);
            }
        }
        let mut offsets = vec![0u32];
        let mut members = Vec::new();
        for l in &of_instance {
            members.extend_from_slice(l);
            offsets.push(members.len() as u32);
        }
        Actions {
            strong: list.iter().map(|l| l.0).collect(),
            names: (0..list.len()).map(|a| format!("A{a}")).collect(),
            offsets,
            members,
        }
    }
}
